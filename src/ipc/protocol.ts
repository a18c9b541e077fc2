import type { ErrorCodeValue } from '../errors.js';
import type { DurationHistogram } from './histogram.js';

/**
 * The one IPC protocol between master and workers. Every message carries `tsgun: 1`, so it can
 * never be mistaken for the app's own process.send() traffic, and is checked on receipt.
 */
export const PROTOCOL_KEY = 'tsgun';

/** What a worker reports about itself. Totals are since the worker started. */
export interface WorkerCounters {
  readonly requests: number;
  readonly inflight: number;
  readonly connections: number;
  readonly bytesOut: number;
  /** Sum of response times (ms) of finished requests: average = this / finished. */
  readonly responseMsTotal: number;
  readonly finished: number;
  readonly status5xx: number;
  /** Responses per status code since the previous report (for statsd). */
  readonly statusDelta: Readonly<Record<string, number>>;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly loopLagP99Ms: number;
  /** Access and error log lines dropped since the worker started: their reader was too far behind. */
  readonly logLinesDropped: number;
  /** --http2 in direct mode: HTTP/2 requests (streams) among `requests`; absent without it. */
  readonly h2Requests?: number;
  /** --proxy-protocol: connections closed for a bad PROXY header since the worker started. */
  readonly proxyHeaderRefused: number;
  /** Response durations by status class, since the worker started (src/ipc/histogram.ts). */
  readonly durations: DurationHistogram;
  /** --statsd-host: each (sampled) response's duration in ms since the previous report. */
  readonly timings: readonly number[];
}

/** The router's view of one upstream (a worker or a --route origin). Totals since it started. */
/**
 * The router's request queue (router/router-queue.ts): requests waiting for a worker connection
 * now, the most that waited at once, and those answered 503 per reason. Totals since it started.
 */
export interface QueueCounters {
  readonly waiting: number;
  readonly highWater: number;
  readonly shedLimit: number;
  readonly shedTimeout: number;
}
export const QUEUE_COUNTERS = ['waiting', 'highWater', 'shedLimit', 'shedTimeout'] as const;

/** --readyz-queue: /readyz answers 503 while more than `threshold` requests wait; 0 = off. */
export function overReadyzThreshold(waiting: number, threshold: number): boolean {
  return threshold > 0 && waiting > threshold;
}

export interface UpstreamCounters {
  readonly name: string;
  readonly requests: number;
  readonly errors: number;
  readonly retries: number;
  readonly inflight: number;
}

/** The PEM text workers and the router get over IPC (not paths: a HUP with a bad file must keep the old one). */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string | null;
}

/**
 * The quick-stop grace (INT/QUIT, a terminal's Ctrl-C): how long a worker whose app has its own
 * SIGINT/SIGTERM handler may take to finish that cleanup before SIGKILL (PM2's kill_timeout is
 * 1.6 s). The master counts it from its quick stop; a worker bounds itself by it too, for when
 * the master is gone.
 */
export const QUICK_STOP_MS = 2000;

/** A quarter of --timeout (so one late beat is not a timeout), between 50 ms and 1 s. */
export function heartbeatMs(timeoutSeconds: number): number {
  return timeoutSeconds > 0 ? Math.max(50, Math.min(1000, (timeoutSeconds * 1000) / 4)) : 1000;
}

/** An upstream worker as the master tells the router: its private unix socket. */
export interface UpstreamWorker {
  readonly id: number;
  readonly path: string;
  /** A rolling reload (HUP, or its own retirement) is about to replace it. */
  readonly stale: boolean;
}

export const RETIRE_REASONS = ['max-requests', 'rss', 'lifetime', 'app-closed'] as const;
export type RetireReason = (typeof RETIRE_REASONS)[number];

/** socket-io-polling: a worker among several, without sticky sessions, saw an engine.io long-polling request. */
export const NOTICES = ['socket-io-polling'] as const;
export type Notice = (typeof NOTICES)[number];

export type WorkerMessage =
  /** The worker is accepting on every inherited socket. */
  | { readonly tsgun: 1; readonly type: 'ready' }
  /** Sent on a timer from the event loop: its absence means the loop is blocked. */
  | {
      readonly tsgun: 1;
      readonly type: 'heartbeat';
      readonly connections: number;
      /** Requests served so far (a worker's; `tsgun status` shows it without --stats). */
      readonly requests?: number;
    }
  /** The worker asks to be replaced (it keeps serving until its replacement is ready). */
  | {
      readonly tsgun: 1;
      readonly type: 'retire';
      readonly reason: RetireReason;
      readonly detail: string;
    }
  /** The worker cannot boot; it exits right after sending this. */
  | {
      readonly tsgun: 1;
      readonly type: 'boot-error';
      readonly code: ErrorCodeValue;
      readonly message: string;
    }
  /** Counters, once a second when --stats or --statsd-host is on (batched: never per request). */
  | ({ readonly tsgun: 1; readonly type: 'stats' } & WorkerCounters)
  /** The app's scheduled jobs (sent before ready): the master schedules them. */
  | {
      readonly tsgun: 1;
      readonly type: 'jobs';
      readonly jobs: readonly { readonly name: string; readonly schedule: string }[];
    }
  /** A job the master asked for has finished. */
  | {
      readonly tsgun: 1;
      readonly type: 'job-done';
      readonly runId: number;
      readonly ok: boolean;
      readonly error: string | null;
      readonly durationMs: number;
    }
  /** Below --worker-connections again: send the listening sockets so it can accept again. */
  | { readonly tsgun: 1; readonly type: 'want-sockets' }
  /** A spare worker (master/children/spare.ts) listens on its channel: it can be sent its boot now. */
  | { readonly tsgun: 1; readonly type: 'spare-waiting' }
  /**
   * No bind configured: the address the app's first listen() asked for (host null: any), for the
   * master to bind and keep (master/sockets/on-demand.ts). Answered with 'bind-result'.
   */
  | {
      readonly tsgun: 1;
      readonly type: 'want-bind';
      readonly host: string | null;
      readonly port: number;
    }
  /**
   * The app's listen() on a port tsgun did not bind met EADDRINUSE: sent at the first failure,
   * then at most once a minute with the failures since (the master says who holds the port).
   */
  | {
      readonly tsgun: 1;
      readonly type: 'pass-busy';
      readonly address: string;
      readonly port: number;
      readonly attempts: number;
    }
  /** Something the operator should know once per master, not once per worker (NOTICES). */
  | { readonly tsgun: 1; readonly type: 'notice'; readonly notice: Notice }
  /** Router: the upstream list numbered `seq` is in use (no new request goes elsewhere). */
  | { readonly tsgun: 1; readonly type: 'upstreams-applied'; readonly seq: number }
  /** Router: per-upstream counters, once a second when --stats or --statsd-host is on. */
  | {
      readonly tsgun: 1;
      readonly type: 'router-stats';
      readonly upstreams: readonly UpstreamCounters[];
      /** Requests waiting for a worker (none is ready). */
      readonly pending: number;
      readonly connections: number;
      /** --http2: HTTP/2 requests (streams) served since the router started. */
      readonly h2Requests: number;
      /** --proxy-protocol: connections closed for a bad PROXY header since the router started. */
      readonly proxyHeaderRefused: number;
      readonly queue: QueueCounters;
    };

export type MasterMessage =
  /** Carries one listening socket as the IPC handle. */
  | { readonly tsgun: 1; readonly type: 'socket'; readonly index: number }
  /**
   * To a spare worker, forked before the master had a config: the whole environment a worker
   * forked now would get (its config included); `sockets` listening sockets follow as 'socket'.
   */
  | {
      readonly tsgun: 1;
      readonly type: 'boot';
      readonly env: Readonly<Record<string, string>>;
      /** The master's umask (--umask), which a fork would inherit. */
      readonly umask: number;
      readonly sockets: number;
    }
  /** The answer to 'want-bind': the socket as the IPC handle, or why there is none. */
  | { readonly tsgun: 1; readonly type: 'bind-result'; readonly error: string | null }
  /** The TLS certificate and key (PEM), sent right after fork when --certfile is set. */
  | ({ readonly tsgun: 1; readonly type: 'tls' } & TlsMaterial)
  /** Run this app job now (this worker was chosen for this tick). */
  | { readonly tsgun: 1; readonly type: 'run-job'; readonly name: string; readonly runId: number }
  /**
   * Router: route to exactly these workers from now on; answer with upstreams-applied. `timedOut`:
   * workers withdrawn because their loop is blocked (about to be killed): what the router had in
   * flight on them is not retried elsewhere.
   */
  | {
      readonly tsgun: 1;
      readonly type: 'upstreams';
      readonly seq: number;
      readonly upstreams: readonly UpstreamWorker[];
      readonly timedOut: readonly number[];
    };

/** The counters of a checked stats message, and nothing else the worker put in it. */
export function workerCounters(m: WorkerCounters): WorkerCounters {
  return {
    requests: m.requests,
    inflight: m.inflight,
    connections: m.connections,
    bytesOut: m.bytesOut,
    responseMsTotal: m.responseMsTotal,
    finished: m.finished,
    status5xx: m.status5xx,
    statusDelta: m.statusDelta,
    rssBytes: m.rssBytes,
    heapUsedBytes: m.heapUsedBytes,
    loopLagP99Ms: m.loopLagP99Ms,
    logLinesDropped: m.logLinesDropped,
    ...(m.h2Requests === undefined ? {} : { h2Requests: m.h2Requests }),
    proxyHeaderRefused: m.proxyHeaderRefused,
    durations: { counts: m.durations.counts, sums: m.durations.sums },
    timings: m.timings,
  };
}

/** The queue counters of a checked router-stats message, and nothing else. */
export const queueCounters = (q: QueueCounters): QueueCounters => ({
  waiting: q.waiting,
  highWater: q.highWater,
  shedLimit: q.shedLimit,
  shedTimeout: q.shedTimeout,
});

/** An upstream's counters from a checked router-stats message, and nothing else. */
export const upstreamCounters = (u: UpstreamCounters): UpstreamCounters => ({
  name: u.name,
  requests: u.requests,
  errors: u.errors,
  retries: u.retries,
  inflight: u.inflight,
});

type Body<T> = T extends unknown ? Omit<T, 'tsgun'> : never;
export const workerMessage = (body: Body<WorkerMessage>): WorkerMessage =>
  ({ tsgun: 1, ...body }) as WorkerMessage;
export const masterMessage = (body: Body<MasterMessage>): MasterMessage =>
  ({ tsgun: 1, ...body }) as MasterMessage;

/** Environment variables the master hands each worker (removed from the app's process.env). */
export const WORKER_ENV = {
  id: 'TSGUN_WORKER_ID',
  config: 'TSGUN_WORKER_CONFIG',
  check: 'TSGUN_WORKER_CHECK',
  /** --user/--group for the child to switch to (JSON uid, gid, name): child/drop-privileges.ts. */
  runAs: 'TSGUN_RUN_AS',
  /** Set on a spare worker (master/children/spare.ts): wait for the 'boot' message before anything else. */
  spare: 'TSGUN_SPARE',
  /** The public-API fallbacks the master's platform check chose (platform/checks.ts). */
  fallbacks: 'TSGUN_PLATFORM_FALLBACKS',
} as const;

/**
 * The variables only a master sets for its children: WORKER_ENV and the worker's index. One
 * inherited from the operator's environment (TSGUN_WORKER_CHECK=1 left over from a test, a
 * TSGUN_RUN_AS) would change what every worker does, so a master drops them as it starts.
 */
export const MASTER_OWNED_ENV: readonly string[] = [
  ...Object.values(WORKER_ENV),
  'TSGUN_WORKER_INDEX',
];

/**
 * Environment a re-executed master (USR2) finds: its sockets, the master it upgrades, and the
 * --stats listening socket (whose address the old master still holds).
 */
export const UPGRADE_ENV = {
  fds: 'TSGUN_FD',
  parent: 'TSGUN_MASTER_PID',
  statsFd: 'TSGUN_STATS_FD',
} as const;

/** Listening sockets reach a worker as inherited fds starting here (0-2 stdio, 3 IPC). */
export const FIRST_LISTEN_FD = 4;

/**
 * Router mode: the fields the router adds to every request (X-Forwarded-For/-Proto/-Host). The
 * router checks --limit-request-fields on what the client sent, and a worker behind it allows
 * this many more, so the router's own headers never count against the client's limit.
 */
export const ROUTER_ADDED_FIELDS = 3;
