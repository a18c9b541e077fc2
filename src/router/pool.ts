import { Pool } from 'undici';
import type { UpstreamCounters, UpstreamWorker } from '../ipc/protocol.js';
import { pickByIp, pickLeastOutstanding, pinnable } from './balance.js';

/** One place requests can go: a worker's private unix socket, or a --route origin. */
export interface Upstream {
  readonly name: string;
  /** The worker id; -1 for a --route origin. */
  readonly id: number;
  readonly target:
    | { readonly socketPath: string; readonly host: string; readonly port: number }
    | URL;
  /** Keep-alive connections to this upstream (undici), reused across client connections. */
  readonly pool: Pool;
  inflight: number;
  requests: number;
  errors: number;
  retries: number;
  /** Withdrawn by the master: takes no new request; its pool closes once inflight is 0. */
  withdrawn: boolean;
  /** A rolling reload is replacing it: no new --sticky cookie session while a fresh one exists. */
  stale: boolean;
  /**
   * Withdrawn because its loop is blocked (--timeout; the master kills it next): a request in
   * flight on it may be the one that blocked it, so none is retried on another worker.
   */
  timedOut: boolean;
}

/** What --sticky asks of one request: a worker id (cookie), a client address (ip), or neither. */
export interface Sticky {
  readonly workerId: number | null;
  readonly ip: string | null;
  /** --sticky cookie: the worker chosen is pinned by the cookie set on the response. */
  readonly pinned: boolean;
}
export const NOT_STICKY: Sticky = { workerId: null, ip: null, pinned: false };

export function upstreamCounters(u: Upstream): UpstreamCounters {
  return {
    name: u.name,
    requests: u.requests,
    errors: u.errors,
    retries: u.retries,
    inflight: u.inflight,
  };
}

/**
 * Node's http.Agent drops a pooled connection a second before the upstream's `Keep-Alive: timeout`
 * hint would; undici's default margin is two. One second keeps a worker's short --keep-alive
 * reusable while still closing before the worker does (a retry covers the rare race).
 */
const KEEP_ALIVE_MARGIN_MS = 1000;

export function routeUpstream(prefix: string, url: string): Upstream {
  const target = new URL(url);
  return {
    name: `route ${prefix}`,
    id: -1,
    target,
    pool: new Pool(target.origin, { keepAliveTimeoutThreshold: KEEP_ALIVE_MARGIN_MS }),
    inflight: 0,
    requests: 0,
    errors: 0,
    retries: 0,
    withdrawn: false,
    stale: false,
    timedOut: false,
  };
}

/**
 * The workers the router may send requests to, as the master last said. Requests that find no
 * worker (none ready: all booting, or -w 1 between a crash and its respawn) wait here for the
 * next list instead of failing.
 */
export class WorkerPool {
  /** Routable workers, by id (ascending: --sticky ip maps over a stable order). */
  private active: Upstream[] = [];
  private readonly leaving = new Set<Upstream>();
  private cursor = 0;
  private waiters: (() => void)[] = [];

  /**
   * `maxSockets`: --worker-connections. A worker stops accepting at that many connections, so
   * the router never opens more to one worker: extra requests wait in the undici pool, not in a
   * queue behind the router's own idle pooled connections.
   */
  constructor(private readonly maxSockets: number) {}

  /**
   * Make `list` the routable set; workers not in it finish what they have, then close.
   * `timedOut`: those of them whose loop is blocked (their requests are not retried).
   */
  apply(list: readonly UpstreamWorker[], timedOut: readonly number[] = []): void {
    for (const u of [...this.active, ...this.leaving])
      if (timedOut.includes(u.id)) u.timedOut = true;
    const wanted = new Map(list.map((w) => [w.id, w]));
    const kept: Upstream[] = [];
    for (const u of this.active) {
      const w = wanted.get(u.id);
      if (w) {
        u.stale = w.stale;
        kept.push(u);
        wanted.delete(u.id);
      } else {
        u.withdrawn = true;
        this.leaving.add(u);
        this.closeIfIdle(u);
      }
    }
    for (const w of wanted.values()) {
      kept.push({
        name: `worker ${w.id}`,
        id: w.id,
        target: { socketPath: w.path, host: 'localhost', port: 80 },
        pool: new Pool('http://localhost', {
          connections: this.maxSockets,
          connect: { socketPath: w.path },
          keepAliveTimeoutThreshold: KEEP_ALIVE_MARGIN_MS,
        }),
        inflight: 0,
        requests: 0,
        errors: 0,
        retries: 0,
        withdrawn: false,
        stale: w.stale,
        timedOut: false,
      });
    }
    this.active = kept.sort((a, b) => a.id - b.id);
    if (this.active.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    }
  }

  get size(): number {
    return this.active.length;
  }

  get pending(): number {
    return this.waiters.length;
  }

  /**
   * The worker for a request: the sticky one if it names a routable worker, else the least
   * loaded (for a new --sticky cookie pin, of the workers no reload is replacing, if any: see
   * `pinnable`). `avoid` is a worker that just failed this request (a retry goes elsewhere if it
   * can).
   */
  choose(sticky: Sticky, avoid: Upstream | null = null): Upstream | null {
    const { active } = this;
    if (active.length === 0) return null;
    if (sticky.workerId !== null) {
      const u = active.find((a) => a.id === sticky.workerId);
      if (u && u !== avoid) return u;
    }
    const others = avoid && active.length > 1 ? active.filter((a) => a !== avoid) : active;
    if (sticky.ip !== null) return others[pickByIp(others, sticky.ip)] ?? null;
    const pool = sticky.pinned ? pinnable(others) : others;
    const i = pickLeastOutstanding(pool, this.cursor);
    this.cursor = (i + 1) % pool.length;
    return pool[i] ?? null;
  }

  acquire(u: Upstream): void {
    u.inflight++;
    u.requests++;
  }

  release(u: Upstream): void {
    u.inflight--;
    if (u.withdrawn) this.closeIfIdle(u);
  }

  /** Resolves true when a worker is routable again, false after `ms` or if cancelled. */
  waitForWorker(ms: number, cancelled: () => boolean): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve(!cancelled());
      };
      this.waiters.push(wake);
    });
  }

  /** Every upstream the router knows, leaving ones included (they still finish requests). */
  counters(): UpstreamCounters[] {
    return [...this.active, ...this.leaving].map(upstreamCounters);
  }

  /** A withdrawn worker with nothing in flight: close the pooled connections so it can exit. */
  private closeIfIdle(u: Upstream): void {
    if (u.inflight > 0) return;
    void u.pool.destroy().catch(() => {});
    this.leaving.delete(u);
  }
}
