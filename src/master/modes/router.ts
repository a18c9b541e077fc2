import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../config/registry.js';
import { ExitCode } from '../../errors.js';
import { ROUTER_ADDED_FIELDS, type TlsMaterial } from '../../ipc/protocol.js';
import { isStale } from '../decisions/plan.js';
import type { Credentials } from '../host/user.js';
import { type BoundSocket, bindPrivateUnix, closeAll } from '../sockets/sockets.js';
import type { DataPathMode, ModeHost, ModeOptions, StopMode, WorkerSlot } from './mode.js';
import type { ProxyLayer } from './proxy-layer.js';
import { combineRouterStats, RouterProcess, type RouterStats } from './router-process.js';

/** Router mode: keep-alive between router and workers, longer than the router's reuse window. */
const UPSTREAM_KEEP_ALIVE_S = 10;

/**
 * --router: one router process accepts on the public sockets and proxies to the workers, each on
 * a private unix socket in a directory only tsgun (and the workers' user) may reach. The master
 * supervises the router like a worker (restarted when it dies, killed when its loop blocks), tells
 * it which workers are ready, and withdraws a worker from it before stopping that worker.
 */
export class RouterMode implements DataPathMode, ProxyLayer {
  private readonly host: ModeHost;
  /** --router-processes: each accepts on the public sockets and is supervised on its own. */
  private readonly routers: RouterProcess[];
  private readonly restartAt: number[];
  private readonly privateDir: string;
  /** The private socket of each worker not reaped yet (closed, and its file removed, on reap). */
  private readonly privateSockets = new Map<number, BoundSocket>();
  private tls: TlsMaterial | null;
  /** --user/--group: the private directory and sockets belong to the workers' user. */
  private readonly credentials: Credentials | null;
  /** No worker wanted (WINCH): the routers stop too; resolved once none runs. */
  private idle: { readonly gone: Promise<void>; resolve: () => void } | null = null;
  private readonly idleLimitMs: number;

  constructor(opts: ModeOptions) {
    this.host = opts.host;
    this.credentials = opts.credentials;
    this.tls = opts.tls;
    this.idleLimitMs = opts.config.gracefulTimeout * 1000;
    // Only tsgun (and the workers' user) may reach the workers: the router is the way in.
    this.privateDir = mkdtempSync(join(tmpdir(), 'tsgun-router-'));
    if (opts.credentials) chownSync(this.privateDir, opts.credentials.uid, opts.credentials.gid);
    opts.host.logger.info(
      { privateDir: this.privateDir },
      `router mode: workers listen on private sockets in ${this.privateDir}`,
    );
    const count = Math.max(1, opts.config.routerProcesses ?? 1);
    this.restartAt = Array.from({ length: count }, () => 0);
    this.routers = this.restartAt.map(
      (_, i) =>
        new RouterProcess({
          config: opts.config,
          sockets: opts.sockets,
          credentials: opts.credentials,
          logger: opts.host.logger,
          onReady: () => {
            void this.pushUpstreams();
            this.host.wake();
          },
          onExit: (code, signal, booted) => this.onRouterExit(i, code, signal, booted),
        }),
    );
  }

  get running(): boolean {
    return this.routers.some((r) => r.running);
  }

  /** The worker listens on a private unix socket the router connects to. */
  slot(id: number, config: Config): WorkerSlot {
    const privateSocket = bindPrivateUnix(join(this.privateDir, `w${id}.sock`), this.credentials);
    this.privateSockets.set(id, privateSocket);
    return {
      config: {
        ...config,
        bind: [privateSocket.address],
        certfile: null,
        keyfile: null,
        caCerts: null,
        keepAlive: UPSTREAM_KEEP_ALIVE_S,
        // The router, the worker's only client, reads as fast as its own client does: a client
        // that stops reading is the router's to cut (--send-timeout there), not a worker's, which
        // would fail the router's request as if the worker had failed.
        sendTimeout: 0,
        limitRequestFields:
          config.limitRequestFields > 0 ? config.limitRequestFields + ROUTER_ADDED_FIELDS : 0,
      },
      // A worker's only socket is its private one; TLS ends at the router.
      sockets: [privateSocket],
      welcome: () => {},
      release: () => {
        this.privateSockets.delete(id);
        closeAll([privateSocket]);
      },
    };
  }

  readyChanged(): void {
    void this.pushUpstreams();
  }

  /**
   * The kill waits until the routers know: a request in flight on a blocked worker may be the one
   * that blocked it, and retried it would block the next worker too.
   */
  timedOut(id: number): Promise<void> {
    return this.pushUpstreams([id]);
  }

  /** The router stops sending it requests first, then it drains what it has. */
  withdraw(wasReady: boolean, mode: StopMode): Promise<void> | null {
    if (this.idle && mode === 'graceful') return this.idle.gone;
    return wasReady && mode === 'graceful' ? this.pushUpstreams() : null;
  }

  /**
   * WINCH (no worker wanted): the routers stop accepting, finish what they hold and exit before
   * the workers stop, and start again with the workers (HUP, TTIN). Otherwise the old master's
   * router after a USR2 would go on taking connections, with no worker to send them to, beside
   * the new master's router on the same sockets.
   */
  targetChanged(workers: number): void {
    if ((workers === 0) === (this.idle !== null)) return;
    if (workers > 0) {
      this.idle?.resolve();
      this.idle = null;
      this.host.wake();
      return;
    }
    let resolve = () => {};
    const gone = new Promise<void>((r) => {
      resolve = r;
    });
    this.idle = { gone, resolve };
    // Bounded like a worker's graceful stop: the workers stop then, whatever a router holds.
    setTimeout(resolve, this.idleLimitMs).unref();
    this.host.logger.info('no worker wanted: the routers stop accepting');
    for (const r of this.routers) if (r.running) r.signal('SIGTERM');
    if (!this.running) resolve();
  }

  supervise(now: number): void {
    if (this.idle) return;
    for (const [i, router] of this.routers.entries()) {
      if (router.running || now < this.restartAt[i]!) continue;
      if (!router.start(this.tls)) {
        this.host.forkFailed();
        this.restartAt[i] = Date.now() + 1000;
        setTimeout(() => this.host.wake(), 1000);
      }
    }
  }

  /** The router is watched like a worker: a blocked loop or an overdue stop gets SIGKILL. */
  murder(now: number, stopLimitMs: number): void {
    for (const r of this.routers) this.murderOne(r, now, stopLimitMs);
  }

  private murderOne(r: RouterProcess, now: number, stopLimitMs: number): void {
    if (!r.running) return;
    const stopping = this.host.stopping();
    const timeoutMs = this.host.timeoutMs();
    if (r.state !== 'closing' && timeoutMs > 0 && now - r.lastHeartbeat > timeoutMs) {
      this.host.logger.error(
        { routerPid: r.pid },
        'ROUTER TIMEOUT: event loop blocked, killing it',
      );
      r.signal('SIGKILL');
    } else if (r.state === 'closing' && stopping && now - stopping.since > stopLimitMs) {
      this.host.logger.warn({ routerPid: r.pid }, 'router did not stop in time, killing it');
      r.signal('SIGKILL');
    }
  }

  setTls(tls: TlsMaterial | null): void {
    this.tls = tls;
    if (tls) for (const r of this.routers) r.sendTls(tls);
  }

  channelBroken(fd: number | null, reason: string): boolean {
    return this.routers.some((r) => r.channelBroken(fd, reason));
  }

  reopenLogs(): void {
    for (const r of this.routers) if (r.state === 'ready') r.signal('SIGUSR1');
  }

  ready(): boolean {
    return this.routers.every((r) => r.state === 'ready');
  }

  stats(): RouterStats | null {
    return combineRouterStats(this.routers.map((r) => r.snapshot()));
  }

  stop(mode: StopMode): boolean {
    if (this.running && mode === 'graceful') {
      // The routers finish what they hold first (onRouterExit then stops the workers).
      for (const r of this.routers) if (r.running) r.signal('SIGTERM');
      return false;
    }
    for (const r of this.routers) r.signal('SIGQUIT');
    return true;
  }

  close(): void {
    rmSync(this.privateDir, { recursive: true, force: true });
  }

  /** The router exited: on a stop, the workers' turn; otherwise start it again (or halt). */
  private onRouterExit(
    i: number,
    code: number | null,
    signal: NodeJS.Signals | null,
    booted: boolean,
  ): void {
    const router = this.routers[i]!;
    const fields = { code, signal };
    const stopping = this.host.stopping();
    if (this.idle && !stopping) {
      this.host.logger.info(fields, 'router exited');
      if (!this.running) this.idle.resolve();
    } else if (stopping) {
      this.host.logger.info(fields, 'router exited');
      // The workers stop once no router can send them a request any more.
      if (!this.running) this.host.stopWorkers(stopping.mode);
    } else if (!booted && router.bootError) {
      this.host.halt(ExitCode.WORKER_BOOT, router.bootError.message, router.bootError.code);
    } else {
      // A router that dies within a second of starting waits a second: no tight crash loop.
      const quick = Date.now() - router.startedAt < 1000;
      this.restartAt[i] = Date.now() + (quick ? 1000 : 0);
      if (quick) setTimeout(() => this.host.wake(), 1000);
      this.host.logger.error(fields, 'router exited unexpectedly; starting a new one');
    }
    this.host.wake();
  }

  /**
   * Tell the router which workers take requests (ready ones), and wait for it. A worker becomes
   * stale when its replacement starts; the router hears it with the replacement's ready, the
   * first list in which a fresh worker can take the new sessions instead.
   */
  private pushUpstreams(timedOut: readonly number[] = []): Promise<void> {
    const generation = this.host.generation();
    const list = this.host
      .workers()
      .filter((w) => w.state === 'ready' && !w.murdered && this.privateSockets.has(w.id))
      .sort((a, b) => a.id - b.id)
      .map((w) => ({
        id: w.id,
        path: this.privateSockets.get(w.id)!.ownedPath!,
        stale: isStale(w, generation),
      }));
    return Promise.all(this.routers.map((r) => r.setUpstreams(list, timedOut))).then(() => {});
  }
}
