import { classSeries, DURATION_BUCKETS, STATUS_CLASSES } from '../../ipc/histogram.js';
import type { WorkerCounters } from '../../ipc/protocol.js';
import { isoTimeUtc } from '../../log/iso-time.js';
import type { WorkerState } from '../decisions/plan.js';
import type { JobView } from '../jobs/scheduler.js';
import type { RouterStats } from '../modes/router-process.js';
import { addTotals, type CounterTotals, countsOf, emptyTotals } from './retired.js';

/** What the arbiter knows, handed to the pure renderers below. */
export interface StatsSnapshot {
  readonly version: string;
  /** process.version of the master (and so of every worker it forks). */
  readonly node: string;
  /** --name: a label on every metric, so two servers on one host stay apart. */
  readonly name: string;
  readonly pid: number;
  /** The master's own resident memory. */
  readonly rssBytes: number;
  readonly startedAt: number;
  readonly now: number;
  readonly targetWorkers: number;
  readonly jobs: readonly JobView[];
  /** --router: the router process and its per-upstream counters; null in direct mode. */
  readonly router: RouterStats | null;
  readonly counters: {
    readonly spawned: number;
    readonly exited: number;
    readonly killed: number;
    readonly respawns: number;
    /** Forks that failed (EAGAIN at a process limit, EMFILE, ENOENT): no process was started. */
    readonly forkFailures: number;
    readonly reloads: number;
    readonly listenQueueFull: number;
  };
  readonly sockets: readonly {
    readonly address: string;
    readonly queue: number | null;
    readonly maxBacklog: number;
  }[];
  /** What exited workers last reported, per worker index (retired.ts). */
  readonly retired: readonly { readonly index: number; readonly totals: CounterTotals }[];
  readonly workers: readonly {
    readonly id: number;
    /** TSGUN_WORKER_INDEX: the label of its series, which a replacement takes over. */
    readonly index: number;
    readonly pid: number;
    readonly state: WorkerState;
    readonly generation: number;
    readonly startedAt: number;
    readonly lastHeartbeat: number;
    readonly requestsPerSec: number;
    readonly counters: WorkerCounters | null;
  }[];
}

/** The request-duration histogram of every worker, live and retired, in JSON. */
function durationDocument(s: StatsSnapshot) {
  const totals = emptyTotals();
  for (const r of s.retired) addTotals(totals, r.totals);
  for (const w of s.workers) if (w.counters) addTotals(totals, w.counters);
  return {
    bucketsSeconds: [...DURATION_BUCKETS],
    classes: Object.fromEntries(
      STATUS_CLASSES.map((name, i) => {
        const { buckets, sum, count } = classSeries(totals.durations, i);
        return [name, { cumulative: buckets.map(([, n]) => n), sumSeconds: sum, count }];
      }),
    ),
  };
}

/** GET / : uWSGI-style stats, one JSON document. */
export function statsDocument(s: StatsSnapshot) {
  return {
    version: s.version,
    node: s.node,
    name: s.name,
    pid: s.pid,
    rssBytes: s.rssBytes,
    startTimeSeconds: s.startedAt / 1000,
    uptimeSeconds: Math.round((s.now - s.startedAt) / 1000),
    workers: {
      target: s.targetWorkers,
      current: s.workers.filter((w) => w.state !== 'closing').length,
    },
    counters: s.counters,
    /** Per worker index: what its exited workers counted (the Prometheus counters add it). */
    retired: s.retired.map((r) => ({ index: r.index, ...countsOf(r.totals) })),
    requestDuration: durationDocument(s),
    sockets: s.sockets,
    jobs: s.jobs,
    router: s.router
      ? {
          pid: s.router.pid,
          state: s.router.state,
          startedAt: isoTimeUtc(s.router.startedAt),
          restarts: s.router.restarts,
          pending: s.router.pending,
          connections: s.router.connections,
          h2Requests: s.router.h2Requests,
          proxyHeaderRefused: s.router.proxyHeaderRefused,
          upstreams: s.router.upstreams,
          queue: s.router.queue,
        }
      : null,
    worker: s.workers.map((w) => {
      const c = w.counters;
      return {
        id: w.id,
        index: w.index,
        pid: w.pid,
        state: w.state,
        generation: w.generation,
        requests: c?.requests ?? 0,
        requestsPerSec: w.requestsPerSec,
        inflight: c?.inflight ?? 0,
        connections: c?.connections ?? 0,
        bytesOut: c?.bytesOut ?? 0,
        avgResponseMs: c && c.finished > 0 ? c.responseMsTotal / c.finished : 0,
        status5xx: c?.status5xx ?? 0,
        rssBytes: c?.rssBytes ?? 0,
        heapUsedBytes: c?.heapUsedBytes ?? 0,
        loopLagP99Ms: c?.loopLagP99Ms ?? 0,
        logLinesDropped: c?.logLinesDropped ?? 0,
        h2Requests: c?.h2Requests ?? 0,
        proxyHeaderRefused: c?.proxyHeaderRefused ?? 0,
        startedAt: isoTimeUtc(w.startedAt),
        lastHeartbeat: isoTimeUtc(w.lastHeartbeat),
      };
    }),
  };
}
export type StatsDocument = ReturnType<typeof statsDocument>;
