import type { ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import {
  type Config,
  type CronEntry,
  displayName,
  REGISTRY,
  SETTING_NAMES,
} from '../config/registry.js';
import { ErrorCode, type ErrorCodeValue, ExitCode, type ExitCodeValue } from '../errors.js';
import { type HookName, runHook, type ServerFacade, type WorkerFacade } from '../hooks.js';
import { heartbeatMs } from '../ipc/child.js';
import {
  masterMessage,
  receiveFromWorker,
  type WorkerCounters,
  type WorkerMessage,
} from '../ipc/protocol.js';
import type { LogTarget } from '../log/logger.js';
import { VERSION } from '../version.js';
import { classifyExit, classifyForkFailure, haltReason } from './classify.js';
import { autoWorkers, readCpuFacts } from './cpus.js';
import { runExec } from './exec.js';
import { readListenQueues } from './listen-queue.js';
import { signalChild } from './own-children.js';
import { promotePidfile, removePidfile } from './pidfile.js';
import {
  type CrashStreak,
  findNotReady,
  findOverdue,
  findTimedOut,
  nextCrashStreak,
  planWorkers,
  type WorkerState,
  type WorkerView,
} from './plan.js';
import { heldTcpConnections } from './proc-net.js';
import { watchForReload } from './reloader.js';
import { RouterProcess } from './router-process.js';
import { Scheduler } from './scheduler.js';
import { type BoundSocket, bindPrivateUnix, closeAll } from './sockets.js';
import { forkWorker } from './spawn.js';
import type { StatsSnapshot } from './stats.js';
import { Statsd } from './statsd.js';
import { loadTls, type TlsMaterial } from './tls.js';
import { reexecMaster } from './upgrade.js';
import type { Credentials } from './user.js';

interface WorkerRecord extends WorkerView {
  readonly child: ChildProcess;
  /** A real pid: a fork that failed never becomes a record. */
  readonly pid: number;
  generation: number;
  state: WorkerState;
  retiring: boolean;
  lastHeartbeat: number;
  closingSince: number | null;
  bootError: { code: ErrorCodeValue; message: string } | null;
  murdered: boolean;
  /** When a timed-out worker was sent SIGABRT (its workerAbort hook); SIGKILL follows next pass. */
  abortedAt: number | null;
  /** Open connections at the last heartbeat: what a timeout kill will cut. */
  connections: number;
  /** The last stats report (--stats/--statsd-host), and the rate derived from the one before. */
  counters: WorkerCounters | null;
  countersAt: number;
  requestsPerSec: number;
  /** Set when killed for not being ready within --ready-timeout (its value, in seconds). */
  notReadyAfter: number | null;
  /** Router mode: the private unix socket it listens on (closed, and its file removed, on reap). */
  privateSocket: BoundSocket | null;
}

/** Router mode: keep-alive between router and workers, longer than the router's reuse window. */
const UPSTREAM_KEEP_ALIVE_S = 10;

const SIGNALS = [
  'SIGTERM',
  'SIGINT',
  'SIGQUIT',
  'SIGHUP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
] as const;
type Signal = (typeof SIGNALS)[number];
type StopMode = 'graceful' | 'quick';

/** How long a quick stop waits for workers before SIGKILL. */
const QUICK_STOP_MS = 2000;

export interface ArbiterOptions {
  readonly config: Config;
  readonly argv: readonly string[];
  readonly log: LogTarget;
  readonly sockets: readonly BoundSocket[];
  /** --user/--group, resolved: workers are forked with these. */
  readonly credentials: Credentials | null;
  /** The directory tsgun started in (before --chdir): a re-executed master starts there too. */
  readonly startCwd: string;
  /** When this master is a USR2 upgrade, the pid of the master it upgrades (until promoted). */
  readonly upgradeFrom: number | null;
  /** The pidfile this master wrote (`<pid>.2` while it is an unpromoted upgrade), or null. */
  readonly pidfile: string | null;
  /** The TLS certificate and key read (and checked) at start, or null for plain HTTP. */
  readonly tls: TlsMaterial | null;
  /** min(--backlog, somaxconn): when a listen queue holds this many, it is full. */
  readonly maxBacklog: number;
  /** Whether unix socket files are this master's to remove (not systemd's, not inherited). */
  readonly ownsSocketFiles: boolean;
}

/** What run() resolves with: the exit code and, for a halt, the one-line reason. */
export interface ArbiterResult {
  readonly exitCode: ExitCodeValue;
  readonly error: string | null;
}

/**
 * The master, in Gunicorn's shape: signal listeners only enqueue; one loop handles the queue in
 * order, then murders stuck workers and manages the count. Decisions come from plan.ts and
 * classify.ts; this class only does the I/O they ask for.
 */
export class Arbiter {
  private config: Config;
  private readonly workers = new Map<number, WorkerRecord>();
  private readonly queue: Signal[] = [];
  private nextId = 1;
  private generation = 1;
  private target: number;
  private spawnAllowed = true;
  private reloading = false;
  private stopping: StopMode | null = null;
  private stoppingSince = 0;
  private result: ArbiterResult = { exitCode: ExitCode.OK, error: null };
  private scheduled = false;
  private ticker: NodeJS.Timeout | null = null;
  private done: ((result: ArbiterResult) => void) | null = null;
  private readonly listeners = new Map<Signal, () => void>();
  private crashStreak: CrashStreak = { count: 0, lastCrashAt: Number.NEGATIVE_INFINITY };
  private nextSpawnAt = 0;
  /** The new master a USR2 started, while it runs. */
  private upgradeChild: ChildProcess | null = null;
  private upgradeFrom: number | null;
  private pidfile: string | null;
  private readonly startedAt = Date.now();
  private readonly counts = {
    spawned: 0,
    exited: 0,
    killed: 0,
    respawns: 0,
    forkFailures: 0,
    reloads: 0,
    listenQueueFull: 0,
  };
  private lastQueueWarning = 0;
  private readonly statsd: Statsd | null;
  private statsTicker: NodeJS.Timeout | null = null;
  private readonly scheduler: Scheduler;
  private stopWatching: (() => void) | null = null;
  private deregistering = false;
  private tls: TlsMaterial | null;
  private deregisterTimer: NodeJS.Timeout | null = null;
  /** App job runs handed to a worker and not reported done yet. */
  private readonly jobRuns = new Map<number, { name: string; workerId: number }>();
  private nextRunId = 1;
  private nextJobWorker = 0;
  /** --router: the router process and the private directory of the workers' sockets. */
  private readonly router: RouterProcess | null = null;
  private readonly privateDir: string | null = null;
  private routerRestartAt = 0;

  constructor(private readonly opts: ArbiterOptions) {
    this.config = opts.config;
    this.target = this.workerCount(opts.config);
    this.upgradeFrom = opts.upgradeFrom;
    this.tls = opts.tls;
    this.pidfile = opts.pidfile;
    this.scheduler = new Scheduler(opts.config.cronTimezone, opts.log.logger);
    this.statsd = opts.config.statsdHost
      ? new Statsd(opts.config.statsdHost, opts.config.statsdPrefix)
      : null;
    if (opts.config.router) {
      // Only tsgun (and the workers' user) may reach the workers: the router is the way in.
      this.privateDir = mkdtempSync(join(tmpdir(), 'tsgun-router-'));
      if (opts.credentials) chownSync(this.privateDir, opts.credentials.uid, opts.credentials.gid);
      opts.log.logger.info(
        { privateDir: this.privateDir },
        `router mode: workers listen on private sockets in ${this.privateDir}`,
      );
      this.router = new RouterProcess({
        config: opts.config,
        sockets: opts.sockets,
        credentials: opts.credentials,
        logger: opts.log.logger,
        onReady: () => {
          void this.pushUpstreams();
          this.wake();
        },
        onExit: (code, signal, booted) => this.onRouterExit(code, signal, booted),
      });
    }
  }

  private get logger() {
    return this.opts.log.logger;
  }

  run(): Promise<ArbiterResult> {
    for (const sig of SIGNALS) {
      const listener = () => this.enqueue(sig);
      this.listeners.set(sig, listener);
      process.on(sig, listener);
    }
    // The master looks as often as workers beat: a missed beat is noticed within one more.
    this.ticker = setInterval(() => this.wake(), heartbeatMs(this.config.timeout));
    this.scheduler.setCron(this.config.cron, (entry) => this.runCronAction(entry));
    if (this.config.reload && this.config.app) {
      this.stopWatching = watchForReload({
        appModule: this.config.app.module,
        extra: this.config.reloadExtraFile,
        logger: this.logger,
        onChange: (file) => {
          this.logger.info({ file }, `--reload: ${file} changed`);
          this.enqueue('SIGHUP');
        },
      });
    }
    if (this.config.stats || this.statsd)
      this.statsTicker = setInterval(() => this.statsTick(), 1000);
    this.wake();
    return new Promise((resolve) => {
      this.done = resolve;
    });
  }

  private enqueue(sig: Signal): void {
    this.queue.push(sig);
    this.wake();
  }

  private wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.loop());
  }

  private loop(): void {
    this.scheduled = false;
    for (let sig = this.queue.shift(); sig !== undefined; sig = this.queue.shift()) {
      this.logger.info({ signal: sig }, `handling signal ${sig}`);
      this.handleSignal(sig);
    }
    this.maybePromote();
    this.murderWorkers();
    if (this.stopping) {
      this.finishIfStopped();
      return;
    }
    this.manageWorkers();
  }

  private handleSignal(sig: Signal): void {
    switch (sig) {
      case 'SIGTERM':
        if (this.stopping === 'graceful' || this.deregistering) this.stop('quick');
        else if (!this.stopping && this.config.shutdownDelay > 0) this.deregister();
        else this.stop('graceful');
        break;
      case 'SIGINT':
      case 'SIGQUIT':
        this.stop('quick');
        break;
      case 'SIGHUP':
        void this.handleHup();
        break;
      case 'SIGTTIN':
        this.handleTtin();
        break;
      case 'SIGTTOU':
        this.handleTtou();
        break;
      case 'SIGUSR1':
        this.handleUsr1();
        break;
      case 'SIGUSR2':
        this.handleUsr2();
        break;
      case 'SIGWINCH':
        this.handleWinch();
        break;
    }
  }

  // --- signal handlers -------------------------------------------------------------------------

  private async handleHup(): Promise<void> {
    if (this.stopping) return;
    this.hook('onReload', this.server);
    try {
      const loaded = await loadConfig(this.opts.argv, process.env);
      if (loaded.kind === 'run') this.applyReloadedConfig(loaded.resolved.config);
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        'reload: config is invalid, keeping the current one',
      );
    }
    if (this.stopping) return;
    this.generation++;
    this.counts.reloads++;
    this.spawnAllowed = true;
    this.reloading = true;
    this.logger.info(
      { generation: this.generation, workers: this.target },
      'reloading: replacing workers one at a time',
    );
    this.wake();
  }

  private applyReloadedConfig(next: Config): void {
    const merged: Record<string, unknown> = { ...next };
    // Certificate rotation: new workers get the new files, but only if they make a valid context.
    try {
      this.tls = loadTls(next);
      if (this.tls) this.router?.sendTls(this.tls);
    } catch (err) {
      this.logger.error(
        { err: (err as Error).message },
        `reload: ${(err as Error).message}; keeping the current certificate`,
      );
      merged['certfile'] = this.config.certfile;
      merged['keyfile'] = this.config.keyfile;
      merged['caCerts'] = this.config.caCerts;
    }
    for (const name of SETTING_NAMES) {
      if (REGISTRY[name].hup) continue;
      if (JSON.stringify(next[name]) !== JSON.stringify(this.config[name])) {
        this.logger.warn(
          { setting: displayName(name) },
          `reload: ${displayName(name)} changed but needs a restart; keeping the running value`,
        );
      }
      merged[name] = this.config[name];
    }
    this.config = Object.freeze(merged) as Config;
    this.setTarget(this.workerCount(this.config));
    this.scheduler.setCron(this.config.cron, (entry) => this.runCronAction(entry));
  }

  private handleTtin(): void {
    this.setTarget(this.target + 1);
    this.logger.info({ workers: this.target }, 'TTIN: one more worker');
  }

  private handleTtou(): void {
    if (this.target <= 1) {
      this.logger.info({ workers: this.target }, 'TTOU: already at one worker');
      return;
    }
    this.setTarget(this.target - 1);
    this.logger.info({ workers: this.target }, 'TTOU: one worker fewer');
  }

  private handleUsr1(): void {
    this.opts.log.reopen();
    this.logger.info('reopened log files (USR1)');
    // Only to ready workers: before Node has installed the worker's handler, USR1 kills it, and a
    // booting worker opens its log files fresh anyway.
    for (const w of this.workers.values()) if (w.state === 'ready') this.signal(w, 'SIGUSR1');
    if (this.router?.state === 'ready') this.router.signal('SIGUSR1');
  }

  private handleUsr2(): void {
    if (this.upgradeChild) {
      this.logger.warn(
        { childPid: this.upgradeChild.pid },
        'USR2 ignored: an upgraded master already runs',
      );
      return;
    }
    if (this.upgradeFrom !== null) {
      this.logger.warn(
        { parentPid: this.upgradeFrom },
        'USR2 ignored: this master is an upgrade not yet promoted',
      );
      return;
    }
    this.hook('preExec', this.server);
    const child = reexecMaster({
      sockets: this.opts.sockets,
      argv: this.opts.argv,
      cwd: this.opts.startCwd,
    });
    this.upgradeChild = child;
    this.logger.info(
      { childPid: child.pid },
      'USR2: started a new master with the listening sockets',
    );
    child.on('exit', (code, signal) => {
      this.upgradeChild = null;
      this.logger.info({ childPid: child.pid, code, signal }, 'the upgraded master exited');
    });
  }

  /** WINCH: stop every worker but keep the master (the old master during an upgrade). */
  private handleWinch(): void {
    this.setTarget(0);
    this.logger.info('WINCH: stopping all workers gracefully; HUP starts them again');
  }

  /** An upgraded master whose parent (the old master) is gone takes over the pidfile. */
  private maybePromote(): void {
    if (this.upgradeFrom === null || process.ppid === this.upgradeFrom) return;
    const oldMasterPid = this.upgradeFrom;
    this.upgradeFrom = null;
    if (this.pidfile && this.config.pid) {
      promotePidfile(this.pidfile, this.config.pid);
      this.pidfile = this.config.pid;
    }
    // Logged once the pidfile names this master: whoever waits for this line may read it.
    this.logger.info({ oldMasterPid }, 'master has been promoted');
  }

  // --- hooks ----------------------------------------------------------------------------------

  private saidReady = false;
  /** Some worker has been ready: from then on a failed fork is retried, never a halt. */
  private everReady = false;

  /** What master hooks get as `server`, like Gunicorn's arbiter: config and log stay current. */
  readonly server: ServerFacade = Object.defineProperties(
    { pid: process.pid, workers: () => this.views().map((w) => this.facade(w)) },
    {
      config: { get: () => this.config, enumerable: true },
      log: { get: () => this.logger, enumerable: true },
    },
  ) as ServerFacade;

  private facade(w: WorkerRecord): WorkerFacade & { state: string } {
    return { id: w.id, pid: w.pid, generation: w.generation, state: w.state };
  }

  private hook(name: HookName, ...args: unknown[]): void {
    runHook(this.config, name, this.logger, ...args);
  }

  /** -w auto is resolved here, from the kernel's view of this process, and the log says how. */
  private workerCount(config: Config): number {
    if (config.workers !== 'auto') return config.workers;
    const { workers, how } = autoWorkers(readCpuFacts(process.env));
    this.opts.log.logger.info({ workers, how }, `-w auto: ${workers} worker(s) (${how})`);
    return workers;
  }

  private setTarget(next: number): void {
    const previous = this.target;
    this.target = next;
    if (next !== previous) this.hook('nworkersChanged', this.server, next, previous);
  }

  // --- scheduled jobs ---------------------------------------------------------------------------

  /** One tick of an app job: one ready worker of the current code runs it (round-robin). */
  private dispatchJob(name: string): boolean {
    const ready = this.views().filter(
      (w) => w.state === 'ready' && w.generation === this.generation && w.child.connected,
    );
    if (ready.length === 0) return false;
    const w = ready[this.nextJobWorker++ % ready.length]!;
    const runId = this.nextRunId++;
    this.jobRuns.set(runId, { name, workerId: w.id });
    w.child.send(masterMessage({ type: 'run-job', name, runId }));
    return true;
  }

  /** A --cron action, run by the master. */
  private runCronAction(entry: CronEntry): Promise<{ ok: boolean; error: string | null }> {
    switch (entry.action.kind) {
      case 'reload':
        this.enqueue('SIGHUP');
        return Promise.resolve({ ok: true, error: null });
      case 'restart-workers':
        // Replaced like max-requests recycling: one batch at a time, each after its replacement.
        for (const w of this.views()) if (w.state !== 'closing') w.retiring = true;
        this.logger.info('cron: restarting every worker, one batch at a time');
        this.wake();
        return Promise.resolve({ ok: true, error: null });
      case 'exec':
        return runExec(entry.action.command, this.logger);
    }
  }

  // --- stats ----------------------------------------------------------------------------------

  /** Once a second with --stats or --statsd-host: the listen queues and the worker gauge. */
  private statsTick(): void {
    const queues = readListenQueues(this.opts.sockets);
    queues.forEach((queue, i) => {
      if (queue === null || queue < this.opts.maxBacklog) return;
      this.counts.listenQueueFull++;
      const now = Date.now();
      if (now - this.lastQueueWarning < 10_000) return;
      this.lastQueueWarning = now;
      this.logger.warn(
        { socket: this.opts.sockets[i]!.display, queue, maxBacklog: this.opts.maxBacklog },
        `listen queue full on ${this.opts.sockets[i]!.display}: ${queue}/${this.opts.maxBacklog} connections waiting (raise -w, --backlog or somaxconn)`,
      );
    });
    this.statsd?.workers(this.views().filter((w) => w.state !== 'closing').length);
  }

  /** Everything --stats shows, read now. */
  snapshot(): StatsSnapshot {
    const queues = readListenQueues(this.opts.sockets);
    return {
      version: VERSION,
      pid: process.pid,
      startedAt: this.startedAt,
      now: Date.now(),
      targetWorkers: this.target,
      jobs: this.scheduler.views(),
      router: this.router?.snapshot() ?? null,
      counters: { ...this.counts },
      sockets: this.opts.sockets.map((s, i) => ({
        address: s.display,
        queue: queues[i] ?? null,
        maxBacklog: this.opts.maxBacklog,
      })),
      workers: this.views()
        .sort((a, b) => a.id - b.id)
        .map((w) => ({
          id: w.id,
          pid: w.pid,
          state: w.state,
          generation: w.generation,
          startedAt: w.spawnedAt,
          lastHeartbeat: w.lastHeartbeat,
          requestsPerSec: w.requestsPerSec,
          counters: w.counters,
        })),
    };
  }

  /** /readyz: at least one worker accepting, and not stopping. */
  ready(): boolean {
    return (
      this.stopping === null &&
      !this.deregistering &&
      (this.router === null || this.router.state === 'ready') &&
      this.views().some((w) => w.state === 'ready')
    );
  }

  // --- the operator verbs ----------------------------------------------------------------------

  private views(): WorkerRecord[] {
    return [...this.workers.values()];
  }

  private murderWorkers(): void {
    const now = Date.now();
    // Gunicorn's order: ABRT first (a worker whose loop still runs gets its workerAbort hook),
    // SIGKILL on the next pass.
    for (const w of this.views()) {
      if (w.abortedAt !== null && now > w.abortedAt) {
        w.abortedAt = null;
        this.signal(w, 'SIGKILL');
      }
    }
    const live = this.views().filter((w) => !w.murdered && w.state !== 'closing');
    for (const id of findTimedOut(live, now, this.config.timeout * 1000)) {
      const w = this.workers.get(id)!;
      // What the kill will cut, for the log: exact from /proc, else the last heartbeat's count.
      const connections = heldTcpConnections(w.pid) ?? w.connections;
      this.logger.error(
        { worker: w.id, workerPid: w.pid, timeout: this.config.timeout, connections },
        `WORKER TIMEOUT (pid:${w.pid}): event loop blocked, killing it with ${connections} open connection(s)`,
      );
      w.murdered = true;
      w.abortedAt = now;
      this.counts.killed++;
      this.signal(w, 'SIGABRT');
    }
    for (const id of findNotReady(live, now, this.config.readyTimeout * 1000)) {
      const w = this.workers.get(id)!;
      if (w.murdered) continue;
      this.logger.error(
        { worker: w.id, workerPid: w.pid },
        `worker not ready within --ready-timeout ${this.config.readyTimeout} s, killing it`,
      );
      w.murdered = true;
      w.notReadyAfter = this.config.readyTimeout;
      this.signal(w, 'SIGKILL');
    }
    const limitMs = this.stopping === 'quick' ? QUICK_STOP_MS : this.config.gracefulTimeout * 1000;
    this.murderRouter(now, limitMs);
    for (const id of findOverdue(this.views(), now, limitMs)) {
      const w = this.workers.get(id)!;
      if (w.murdered) continue;
      this.logger.warn(
        { worker: w.id, workerPid: w.pid },
        'worker did not stop in time, killing it',
      );
      w.murdered = true;
      this.counts.killed++;
      this.signal(w, 'SIGKILL');
    }
  }

  /** The router is watched like a worker: a blocked loop or an overdue stop gets SIGKILL. */
  private murderRouter(now: number, stopLimitMs: number): void {
    const r = this.router;
    if (!r?.running) return;
    const timeoutMs = this.config.timeout * 1000;
    if (r.state !== 'closing' && timeoutMs > 0 && now - r.lastHeartbeat > timeoutMs) {
      this.logger.error({ routerPid: r.pid }, 'ROUTER TIMEOUT: event loop blocked, killing it');
      r.signal('SIGKILL');
    } else if (r.state === 'closing' && this.stopping && now - this.stoppingSince > stopLimitMs) {
      this.logger.warn({ routerPid: r.pid }, 'router did not stop in time, killing it');
      r.signal('SIGKILL');
    }
  }

  /** The router exited: on a stop, the workers' turn; otherwise start it again (or halt). */
  private onRouterExit(code: number | null, signal: NodeJS.Signals | null, booted: boolean): void {
    const fields = { code, signal };
    if (this.stopping) {
      this.logger.info(fields, 'router exited');
      for (const w of this.workers.values()) this.killWorker(w, this.stopping);
    } else if (!booted && this.router?.bootError) {
      this.halt(ExitCode.WORKER_BOOT, this.router.bootError, ErrorCode.WORKER_LISTEN);
    } else {
      // A router that dies within a second of starting waits a second: no tight crash loop.
      const quick = Date.now() - (this.router?.startedAt ?? 0) < 1000;
      this.routerRestartAt = Date.now() + (quick ? 1000 : 0);
      if (quick) setTimeout(() => this.wake(), 1000);
      this.logger.error(fields, 'router exited unexpectedly; starting a new one');
    }
    this.wake();
  }

  /** Router mode: tell the router which workers take requests (ready ones), and wait for it. */
  private pushUpstreams(): Promise<void> {
    if (!this.router) return Promise.resolve();
    const list = this.views()
      .filter((w) => w.state === 'ready' && !w.murdered && w.privateSocket)
      .sort((a, b) => a.id - b.id)
      .map((w) => ({ id: w.id, path: w.privateSocket!.ownedPath!, weight: 1 }));
    return this.router.setUpstreams(list);
  }

  private manageWorkers(): void {
    if (this.router && !this.router.running && Date.now() >= this.routerRestartAt) {
      if (!this.router.start(this.tls)) {
        this.counts.forkFailures++;
        this.routerRestartAt = Date.now() + 1000;
        setTimeout(() => this.wake(), 1000);
      }
    }
    const actions = planWorkers({
      workers: this.views(),
      target: this.target,
      generation: this.generation,
      spawnAllowed: this.spawnAllowed && Date.now() >= this.nextSpawnAt,
      batch: this.config.reloadBatch,
    });
    for (const action of actions) {
      if (action.kind === 'spawn') {
        for (let i = 0; i < action.count && this.spawnWorker(); i++);
      } else {
        for (const id of action.ids) this.killWorker(this.workers.get(id)!, 'graceful');
      }
    }
    if (
      this.reloading &&
      !this.views().some((w) => w.state === 'booting' || w.generation < this.generation)
    ) {
      this.reloading = false;
      this.logger.info({ generation: this.generation }, 'reload complete');
    }
  }

  /** Fork one worker; false when the fork failed (reported by forkFailed, spawns paused). */
  private spawnWorker(): boolean {
    const id = this.nextId++;
    this.hook('preFork', this.server, { id, pid: null, generation: this.generation });
    // Router mode: the worker listens on a private unix socket the router connects to.
    const privateSocket = this.privateDir
      ? bindPrivateUnix(join(this.privateDir, `w${id}.sock`))
      : null;
    const forked = forkWorker({
      id,
      config: privateSocket
        ? {
            ...this.config,
            bind: [privateSocket.address],
            certfile: null,
            keyfile: null,
            caCerts: null,
            keepAlive: UPSTREAM_KEEP_ALIVE_S,
          }
        : this.config,
      sockets: privateSocket ? [privateSocket] : this.opts.sockets,
      credentials: this.opts.credentials,
    });
    if (!forked.ok) {
      if (privateSocket) closeAll([privateSocket]);
      // No spawn until the failure is reported (on the next tick) and its backoff is set.
      this.nextSpawnAt = Number.POSITIVE_INFINITY;
      void forked.error.then((err) => this.forkFailed(id, err));
      return false;
    }
    const { child, pid } = forked;
    const now = Date.now();
    const record: WorkerRecord = {
      id,
      child,
      pid,
      generation: this.generation,
      state: 'booting',
      retiring: false,
      spawnedAt: now,
      lastHeartbeat: now,
      closingSince: null,
      bootError: null,
      murdered: false,
      abortedAt: null,
      notReadyAfter: null,
      connections: 0,
      counters: null,
      countersAt: now,
      requestsPerSec: 0,
      privateSocket,
    };
    this.counts.spawned++;
    this.workers.set(id, record);
    if (this.tls && !privateSocket) child.send(masterMessage({ type: 'tls', ...this.tls }));
    this.hook('postFork', this.server, this.facade(record));
    child.on('message', (value: unknown) => this.onMessage(record, value));
    child.on('exit', (code, signal) => this.reap(record, code, signal));
    child.on('error', (err) => this.logger.error({ worker: id, err }, 'worker process error'));
    this.logger.info({ worker: id, workerPid: pid, generation: this.generation }, 'booting worker');
    return true;
  }

  /**
   * A fork that failed started no process: counted, and retried under the crash backoff while
   * workers serve (or have served). One that fails before any worker was ever ready halts.
   */
  private forkFailed(id: number, err: Error): void {
    this.counts.forkFailures++;
    const message = `cannot fork worker ${id}: ${err.message}`;
    if (
      classifyForkFailure({ everReady: this.everReady, liveWorkers: this.workers.size }) === 'halt'
    ) {
      this.halt(ExitCode.WORKER_BOOT, message, ErrorCode.FORK);
      return;
    }
    const delayMs = this.crashBackoff();
    this.logger.error(
      {
        worker: id,
        err: err.message,
        errorCode: ErrorCode.FORK,
        forkFailures: this.counts.forkFailures,
      },
      `${message}; serving with ${this.workers.size} worker(s), retrying in ${delayMs} ms`,
    );
  }

  /** Count one crash (or failed fork) in the streak and hold spawns for its backoff. */
  private crashBackoff(): number {
    const { streak, delayMs } = nextCrashStreak(this.crashStreak, Date.now());
    this.crashStreak = streak;
    this.nextSpawnAt = Date.now() + delayMs;
    setTimeout(() => this.wake(), delayMs);
    return delayMs;
  }

  private killWorker(w: WorkerRecord, mode: StopMode): void {
    const routed = this.router !== null && w.state === 'ready';
    if (w.state !== 'closing') {
      w.state = 'closing';
      w.closingSince = Date.now();
    }
    const sig = mode === 'graceful' ? 'SIGTERM' : 'SIGQUIT';
    // Router mode: the router stops sending it requests first, then it drains what it has.
    if (routed && mode === 'graceful')
      void this.pushUpstreams().then(() => {
        if (this.workers.has(w.id)) this.signal(w, sig);
      });
    else this.signal(w, sig);
  }

  private signal(w: WorkerRecord, sig: NodeJS.Signals): void {
    signalChild(w.pid, sig);
  }

  private onMessage(w: WorkerRecord, value: unknown): void {
    const received = receiveFromWorker(value);
    if (received.kind === 'invalid') {
      this.logger.warn(
        { worker: w.id, reason: received.reason },
        'ignored a malformed message from a worker',
      );
    }
    if (received.kind !== 'ours') return;
    const message: WorkerMessage = received.message;
    w.lastHeartbeat = Date.now();
    switch (message.type) {
      case 'heartbeat':
        w.connections = message.connections;
        break;
      case 'stats': {
        const { tsgun: _, type: __, ...current } = message;
        const now = Date.now();
        const previous = w.counters;
        w.requestsPerSec = previous
          ? ((current.requests - previous.requests) * 1000) / Math.max(1, now - w.countersAt)
          : 0;
        w.counters = current;
        w.countersAt = now;
        w.connections = current.connections;
        this.statsd?.report(current, previous);
        break;
      }
      case 'ready':
        if (w.state === 'booting') w.state = 'ready';
        this.everReady = true;
        this.logger.info({ worker: w.id, workerPid: w.pid }, 'worker ready');
        void this.pushUpstreams();
        if (
          !this.saidReady &&
          this.views().filter((o) => o.state === 'ready').length >= this.target
        ) {
          this.saidReady = true;
          this.hook('whenReady', this.server);
        }
        this.wake();
        break;
      case 'retire':
        w.retiring = true;
        this.logger.info(
          { worker: w.id, workerPid: w.pid, reason: message.reason },
          `replacing worker: ${message.detail}`,
        );
        this.wake();
        break;
      case 'jobs':
        if (w.generation === this.generation)
          this.scheduler.setAppJobs(message.jobs, (name) => this.dispatchJob(name));
        break;
      case 'job-done': {
        const run = this.jobRuns.get(message.runId);
        if (!run) break;
        this.jobRuns.delete(message.runId);
        this.scheduler.finish(run.name, message.ok, message.error, message.durationMs);
        break;
      }
      case 'boot-error':
        w.bootError = { code: message.code, message: message.message };
        break;
      case 'want-sockets':
        // Router mode: a worker's only socket is its private one.
        (w.privateSocket ? [w.privateSocket] : this.opts.sockets).forEach((s, index) => {
          if (w.child.connected)
            w.child.send(masterMessage({ type: 'socket', index }), s.handle as never);
        });
        break;
    }
  }

  /** A worker is gone: decide, from why, whether that is fine, a crash to respawn, or a halt. */
  private reap(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(w.id);
    this.counts.exited++;
    if (w.privateSocket) {
      void this.pushUpstreams();
      closeAll([w.privateSocket]);
    }
    this.hook('childExit', this.server, this.facade(w));
    for (const [runId, run] of this.jobRuns) {
      if (run.workerId !== w.id) continue;
      this.jobRuns.delete(runId);
      this.scheduler.finish(run.name, false, `worker ${w.pid} exited during the job`, 0);
    }
    const verdict = classifyExit({
      state: w.state,
      code,
      signal,
      bootError: w.bootError,
      masterStopping: this.stopping !== null,
      murdered: w.murdered,
      notReadyAfter: w.notReadyAfter,
    });
    const fields = { worker: w.id, workerPid: w.pid, code, signal };
    switch (verdict.kind) {
      case 'expected':
        this.logger.info(fields, 'worker exited');
        break;
      case 'crash': {
        this.counts.respawns++;
        const delayMs = this.crashBackoff();
        const backoff =
          delayMs > 0 ? ` (crash ${this.crashStreak.count} in a row: waiting ${delayMs} ms)` : '';
        this.logger.error(fields, `${verdict.message} (pid:${w.pid}); respawning${backoff}`);
        break;
      }
      case 'boot-failure': {
        const serving = this.views().filter((o) => o.state === 'ready');
        if (serving.length === 0) {
          const { errorLogfile, logLevel } = this.config;
          const reported = w.bootError !== null;
          const reason = haltReason({
            ...verdict,
            reported,
            worker: w.id,
            workerPid: w.pid,
            errorLogfile,
            logLevel,
          });
          this.halt(verdict.exitCode, reason, verdict.code);
          break;
        }
        // Others still serve the old code: keep them, abort the reload, and wait for a fix.
        this.logger.error(
          { ...fields, errorCode: verdict.code },
          `${verdict.message}; keeping ${serving.length} serving worker(s), no more spawns until the next HUP`,
        );
        this.spawnAllowed = false;
        this.reloading = false;
        for (const o of this.workers.values()) o.generation = this.generation;
        break;
      }
    }
    this.wake();
  }

  private halt(exitCode: ExitCodeValue, message: string, code: ErrorCodeValue): void {
    this.logger.fatal({ errorCode: code, exitCode }, `halting: ${message}`);
    this.result = { exitCode, error: `${message} [${code}]` };
    this.stop('quick');
  }

  /** TERM: stop accepting, let workers finish (graceful); INT/QUIT: stop now (quick). */
  /**
   * --shutdown-delay: /readyz says 503 at once while the workers keep serving, so a load balancer
   * (or Kubernetes) takes this instance out before anything stops: the preStop-sleep pattern.
   */
  private deregister(): void {
    this.deregistering = true;
    this.logger.info(
      { delay: this.config.shutdownDelay },
      `TERM: not ready any more; serving ${this.config.shutdownDelay} s more before stopping`,
    );
    this.deregisterTimer = setTimeout(
      () => this.stop('graceful'),
      this.config.shutdownDelay * 1000,
    );
  }

  private stop(mode: StopMode): void {
    if (this.stopping === 'quick' || this.stopping === mode) return;
    if (this.deregisterTimer) clearTimeout(this.deregisterTimer);
    this.logger.info({ mode }, mode === 'graceful' ? 'stopping gracefully' : 'stopping now');
    // During an upgrade the other master still serves on these sockets: leave their files.
    const unlink =
      this.opts.ownsSocketFiles && this.upgradeChild === null && this.upgradeFrom === null;
    if (!this.stopping) closeAll(this.opts.sockets, unlink);
    this.stopping = mode;
    this.stoppingSince = Date.now();
    if (this.router?.running && mode === 'graceful') {
      // The router finishes what it holds first (onRouterExit then stops the workers).
      this.router.signal('SIGTERM');
    } else {
      this.router?.signal('SIGQUIT');
      for (const w of this.workers.values()) this.killWorker(w, mode);
    }
    this.wake();
  }

  private finishIfStopped(): void {
    if (this.workers.size > 0 || this.router?.running || !this.done) return;
    if (this.privateDir) rmSync(this.privateDir, { recursive: true, force: true });
    if (this.ticker) clearInterval(this.ticker);
    if (this.statsTicker) clearInterval(this.statsTicker);
    this.scheduler.stop();
    this.stopWatching?.();
    this.statsd?.close();
    for (const [sig, listener] of this.listeners) process.off(sig, listener);
    if (this.pidfile) removePidfile(this.pidfile);
    this.hook('onExit', this.server);
    this.logger.info({ exitCode: this.result.exitCode }, 'shutdown complete');
    const done = this.done;
    this.done = null;
    done(this.result);
  }
}
