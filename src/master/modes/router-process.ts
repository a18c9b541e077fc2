import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../config/registry.js';
import type { ErrorCodeValue } from '../../errors.js';
import {
  masterMessage,
  type QueueCounters,
  queueCounters,
  type TlsMaterial,
  type UpstreamCounters,
  type UpstreamWorker,
  upstreamCounters,
  type WorkerMessage,
} from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import { channelFd } from '../../platform/ipc-channel.js';
import { SenderGuard } from '../children/sender-guard.js';
import { forkRouter } from '../children/spawn.js';
import { admitMessage, runHandler, type Sender } from '../children/worker-messages.js';
import { signalChild } from '../host/own-children.js';
import type { Credentials } from '../host/user.js';
import type { BoundSocket } from '../sockets/sockets.js';

/** How long the master waits for the router to confirm a new upstream list before going on. */
const APPLY_TIMEOUT_MS = 1000;

export interface RouterStats {
  readonly pid: number | null;
  readonly state: 'booting' | 'ready' | 'closing';
  readonly startedAt: number;
  readonly restarts: number;
  readonly pending: number;
  readonly connections: number;
  /** --http2: HTTP/2 requests the running router served (from zero when it restarts). */
  readonly h2Requests: number;
  /** --proxy-protocol: connections the running router closed for a bad PROXY header (likewise). */
  readonly proxyHeaderRefused: number;
  readonly upstreams: readonly UpstreamCounters[];
  readonly queue: QueueCounters;
}

const NO_QUEUE: QueueCounters = { waiting: 0, highWater: 0, shedLimit: 0, shedTimeout: 0 };

/** What a router's own reports give (the rest of RouterStats is the master's). */
type ReportedStats = Omit<RouterStats, 'pid' | 'state' | 'startedAt' | 'restarts'>;
/** A router that has not reported yet (or exited). */
const NO_STATS: ReportedStats = {
  upstreams: [],
  pending: 0,
  connections: 0,
  h2Requests: 0,
  proxyHeaderRefused: 0,
  queue: NO_QUEUE,
};

/**
 * Queue counters of two routers (or a router and the ones before it): waiting and shed add up;
 * the high-water mark is the larger, since the routers' peaks need not coincide.
 */
export const plusQueue = (a: QueueCounters, b: QueueCounters): QueueCounters => ({
  waiting: a.waiting + b.waiting,
  highWater: Math.max(a.highWater, b.highWater),
  shedLimit: a.shedLimit + b.shedLimit,
  shedTimeout: a.shedTimeout + b.shedTimeout,
});

/** One upstream's counters added to another's (same name). */
const plus = (a: UpstreamCounters, b: UpstreamCounters): UpstreamCounters => ({
  name: a.name,
  requests: a.requests + b.requests,
  errors: a.errors + b.errors,
  retries: a.retries + b.retries,
  inflight: a.inflight + b.inflight,
});

/** Add each of `list` into `into`, by upstream name. */
function addByName(into: Map<string, UpstreamCounters>, list: readonly UpstreamCounters[]): void {
  for (const u of list) {
    const prior = into.get(u.name);
    into.set(u.name, prior ? plus(prior, u) : u);
  }
}

/**
 * --router-processes N: one snapshot for all routers (pid and state of the first one that has a
 * process; restarts, pending requests, connections and each upstream's counters summed), or
 * null when none has started.
 */
export function combineRouterStats(list: readonly (RouterStats | null)[]): RouterStats | null {
  const running = list.filter((s): s is RouterStats => s !== null);
  // A router between an exit and its restart still has its counts, and no pid.
  const first = running.find((s) => s.pid !== null) ?? running[0];
  if (!first) return null;
  if (running.length === 1) return first;
  const upstreams = new Map<string, UpstreamCounters>();
  for (const s of running) addByName(upstreams, s.upstreams);
  const sum = (k: 'restarts' | 'pending' | 'connections' | 'h2Requests' | 'proxyHeaderRefused') =>
    running.reduce((n, s) => n + s[k], 0);
  return {
    ...first,
    restarts: sum('restarts'),
    pending: sum('pending'),
    connections: sum('connections'),
    h2Requests: sum('h2Requests'),
    proxyHeaderRefused: sum('proxyHeaderRefused'),
    upstreams: [...upstreams.values()],
    queue: running.map((s) => s.queue).reduce(plusQueue, NO_QUEUE),
  };
}

/**
 * The running router's counters plus what earlier routers counted for the same upstream. Until
 * the new router reports (a second after it starts) the earlier counts stand alone.
 */
export function withEarlier(
  current: readonly UpstreamCounters[],
  earlier: ReadonlyMap<string, UpstreamCounters>,
  reported: boolean,
): UpstreamCounters[] {
  if (!reported) return [...earlier.values()];
  return current.map((u) => {
    const e = earlier.get(u.name);
    return e ? plus(u, e) : u;
  });
}

export interface RouterProcessOptions {
  readonly config: Config;
  readonly sockets: readonly BoundSocket[];
  readonly credentials: Credentials | null;
  readonly logger: Logger;
  /** The router is accepting. */
  readonly onReady: () => void;
  /** The router exited; `booted` says whether it had become ready first. */
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null, booted: boolean) => void;
}

/**
 * The master's handle on the router process of --router mode: starts it, tells it which workers
 * are routable (and waits for it to confirm before a worker is stopped), and keeps its stats.
 * Restart decisions are the router mode's (modes/router.ts).
 */
export class RouterProcess {
  private child: ChildProcess | null = null;
  /** The running router's pid (a real one: a failed fork leaves no child). */
  private childPid: number | null = null;
  private seq = 0;
  private readonly acks = new Map<number, () => void>();
  private lastList: readonly UpstreamWorker[] = [];
  state: 'booting' | 'ready' | 'closing' = 'booting';
  lastHeartbeat = 0;
  startedAt = 0;
  restarts = -1;
  bootError: { code: ErrorCodeValue; message: string } | null = null;
  private stats: ReportedStats = NO_STATS;
  /** What routers that exited shed (nothing waits in a router that exited). */
  private earlierQueue: QueueCounters = NO_QUEUE;
  /**
   * What routers that exited counted, per upstream: a new router starts from zero, and the
   * counters it reports are added to these, so a restart never takes a counter down (as the
   * master keeps what retired workers counted). Pruned at each report to the upstreams the
   * router names (every --route, each worker in its pool): a worker gone is gone from the
   * counters, as it would be without a restart.
   */
  private readonly earlier = new Map<string, UpstreamCounters>();
  /** Whether the running router has reported its counters yet. */
  private reported = false;

  constructor(private readonly opts: RouterProcessOptions) {}

  get running(): boolean {
    return this.child !== null;
  }

  get pid(): number | null {
    return this.childPid;
  }

  /** Fork the router; false when the fork failed (logged when Node reports why). */
  start(tls: TlsMaterial | null): boolean {
    const forked = forkRouter({
      config: this.opts.config,
      sockets: this.opts.sockets,
      credentials: this.opts.credentials,
    });
    if (!forked.ok) {
      void forked.error.then((err) =>
        this.opts.logger.error(
          { err: err.message },
          `cannot fork the router: ${err.message}; retrying in a second`,
        ),
      );
      return false;
    }
    const { child, pid } = forked;
    this.child = child;
    this.childPid = pid;
    this.state = 'booting';
    this.startedAt = Date.now();
    this.lastHeartbeat = this.startedAt;
    this.restarts++;
    this.reported = false;
    this.bootError = null;
    if (tls) child.send(masterMessage({ type: 'tls', ...tls }));
    if (this.lastList.length > 0) this.send(this.lastList);
    const sender: Sender = {
      guard: new SenderGuard(),
      name: 'the router',
      fields: { routerPid: pid },
      replace: () => this.replace(child),
      cut: () => {
        this.replace(child);
        if (child.connected) child.disconnect();
      },
    };
    child.on('message', (value: unknown) => {
      const m = admitMessage(sender, value, this.opts.logger);
      if (m) runHandler(sender, m.type, this.opts.logger, () => this.onMessage(m, child));
    });
    child.on('error', (err) => this.opts.logger.error({ err }, 'router process error'));
    child.on('exit', (code, signal) => {
      const booted = this.state !== 'booting';
      this.child = null;
      this.childPid = null;
      this.keepCounts();
      for (const ack of this.acks.values()) ack();
      this.acks.clear();
      this.opts.onExit(code, signal, booted);
    });
    this.opts.logger.info({ routerPid: pid }, 'booting router');
    return true;
  }

  /**
   * Route to exactly these workers; resolves once the router applied it (or could not).
   * `timedOut`: workers left out because their loop is blocked (see the message).
   */
  setUpstreams(list: readonly UpstreamWorker[], timedOut: readonly number[] = []): Promise<void> {
    this.lastList = list;
    if (!this.child?.connected) return Promise.resolve();
    return this.send(list, timedOut);
  }

  private send(list: readonly UpstreamWorker[], timedOut: readonly number[] = []): Promise<void> {
    const seq = ++this.seq;
    this.child?.send(masterMessage({ type: 'upstreams', seq, upstreams: list, timedOut }));
    return new Promise((resolve) => {
      const timer = setTimeout(done, APPLY_TIMEOUT_MS);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.acks.set(seq, () => {
        this.acks.delete(seq);
        done();
      });
    });
  }

  sendTls(tls: TlsMaterial): void {
    if (this.child?.connected) this.child.send(masterMessage({ type: 'tls', ...tls }));
  }

  signal(sig: NodeJS.Signals): void {
    if (sig === 'SIGTERM' || sig === 'SIGQUIT') this.state = 'closing';
    signalChild(this.childPid, sig);
  }

  /** Null before the first router starts; between an exit and the restart, what it counted. */
  snapshot(): RouterStats | null {
    if (!this.child && this.earlier.size === 0) return null;
    return {
      pid: this.pid,
      state: this.child ? this.state : 'booting',
      startedAt: this.startedAt,
      restarts: this.restarts,
      ...this.stats,
      upstreams: withEarlier(this.stats.upstreams, this.earlier, this.reported),
      queue: plusQueue(this.stats.queue, this.earlierQueue),
    };
  }

  /** The router exited: what it counted joins the earlier routers' counts. */
  private keepCounts(): void {
    // Nothing is in flight through a router that exited.
    addByName(
      this.earlier,
      this.stats.upstreams.map((u) => ({ ...u, inflight: 0 })),
    );
    this.earlierQueue = plusQueue(this.earlierQueue, { ...this.stats.queue, waiting: 0 });
    this.stats = NO_STATS;
    this.reported = false;
  }

  /**
   * Replace this router (it sent bad messages, flooded, or its channel broke): TERM, so it
   * finishes what it holds, and the mode starts a new one when it exits; SIGKILL if it has not
   * exited by --graceful-timeout.
   */
  private replace(child: ChildProcess): void {
    if (child !== this.child) return;
    this.signal('SIGTERM');
    const pid = this.childPid;
    setTimeout(() => {
      if (this.child === child) signalChild(pid, 'SIGKILL');
    }, this.opts.config.gracefulTimeout * 1000).unref();
  }

  /** Node could not read the channel with this fd: if it is this router's, replace it. */
  channelBroken(fd: number | null, reason: string): boolean {
    const child = this.child;
    if (!child || fd === null || channelFd(child) !== fd) return false;
    this.opts.logger.error(
      { routerPid: this.childPid, reason },
      `replacing the router: its IPC channel is broken (${reason})`,
    );
    this.replace(child);
    if (child.connected) child.disconnect();
    return true;
  }

  private onMessage(m: WorkerMessage, from: ChildProcess): void {
    this.lastHeartbeat = Date.now();
    switch (m.type) {
      case 'ready':
        if (this.state === 'booting') this.state = 'ready';
        this.opts.logger.info({ routerPid: this.pid }, 'router ready');
        this.opts.onReady();
        break;
      case 'upstreams-applied':
        // Acks arrive in order: this one also confirms every earlier list.
        for (const [seq, ack] of this.acks) if (seq <= m.seq) ack();
        break;
      case 'router-stats': {
        // A report read after its router's exit is in `earlier` already (or lost: at most the
        // last second of a router that was killed).
        if (from !== this.child) break;
        // Only the fields of the protocol are kept: whatever else the router put in is dropped.
        const upstreams = m.upstreams.map(upstreamCounters);
        this.stats = {
          upstreams,
          pending: m.pending,
          connections: m.connections,
          h2Requests: m.h2Requests,
          proxyHeaderRefused: m.proxyHeaderRefused,
          queue: queueCounters(m.queue),
        };
        this.reported = true;
        const named = new Set(upstreams.map((u) => u.name));
        for (const name of this.earlier.keys()) if (!named.has(name)) this.earlier.delete(name);
        break;
      }
      case 'boot-error':
        this.bootError = { code: m.code, message: m.message };
        break;
      default:
        break;
    }
  }
}
