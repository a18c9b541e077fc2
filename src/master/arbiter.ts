import type { Config } from '../config/registry.js';
import { type ErrorCodeValue, ExitCode, type ExitCodeValue } from '../errors.js';
import { type HookName, runHook, type ServerFacade } from '../hooks.js';
import { heartbeatMs, overReadyzThreshold, QUICK_STOP_MS } from '../ipc/protocol.js';
import type { ArbiterOptions, ArbiterResult, Queued } from './arbiter-options.js';
import { guardChannels } from './children/channel-guard.js';
import { controlStatus, type OperatorVerbs } from './control/control-socket.js';
import { targetStep } from './control/target-step.js';
import { workerCount } from './host/cpus.js';
import { reopenMasterLogs } from './host/log-files.js';
import { SystemdNotifier } from './host/notify.js';
import { removePidfile } from './host/pidfile.js';
import { JobRuns, runCronAction } from './jobs/job-runs.js';
import { Scheduler } from './jobs/scheduler.js';
import { createMode } from './modes/create-mode.js';
import type { DataPathMode, StopMode } from './modes/mode.js';
import type { ProxyLayer } from './modes/proxy-layer.js';
import { applyReloadedConfig, readReloadedConfig } from './reload/reload-apply.js';
import { targetAfterReload } from './reload/reload-config.js';
import { watchForReload } from './reload/reloader.js';
import { Upgrade } from './reload/upgrade.js';
import { closeAll } from './sockets/sockets.js';
import { MasterStats } from './stats/master-stats.js';
import type { StatsSnapshot } from './stats/stats.js';
import { masterFacade } from './workers/worker-record.js';
import { WorkerTable } from './workers/worker-table.js';

/**
 * The master, in Gunicorn's shape: signal listeners only enqueue; one loop handles the queue in
 * order, then murders stuck workers and manages the count. Decisions come from plan.ts and
 * classify.ts, how requests reach workers from the data-path mode (modes/); this class only keeps
 * the worker table and does the I/O they ask for.
 */
export class Arbiter {
  private config: Config;
  private readonly queue: Queued[] = [];
  private target: number;
  /** The count `tsgun scale`, TTIN or TTOU set: a reload keeps it (targetAfterReload). */
  private operatorTarget: number | null = null;
  private stopping: StopMode | null = null;
  private stoppingSince = 0;
  private deregistering = false;
  private deregisterTimer: NodeJS.Timeout | null = null;
  private result: ArbiterResult = { exitCode: ExitCode.OK, error: null };
  private scheduled = false;
  private ticker: NodeJS.Timeout | null = null;
  private done: ((result: ArbiterResult) => void) | null = null;
  private readonly listeners = new Map<NodeJS.Signals, () => void>();
  private stopWatching: (() => void) | null = null;
  private readonly upgrade: Upgrade;
  private readonly stats: MasterStats;
  private readonly scheduler: Scheduler;
  private readonly jobs: JobRuns;
  private readonly mode: DataPathMode;
  /** Router mode's processes between clients and workers; null in direct mode. */
  private readonly proxy: ProxyLayer | null;
  private readonly workers: WorkerTable;
  /** Removes the listener that keeps a child's unreadable IPC channel from ending the master. */
  private unguard: (() => void) | null = null;
  private readonly notify: SystemdNotifier;

  constructor(private readonly opts: ArbiterOptions) {
    this.config = opts.config;
    this.target = workerCount(opts.config.workers, this.logger);
    this.upgrade = new Upgrade(opts.upgradeFrom, opts.pidfile, this.logger, opts.onPromoted);
    this.notify = new SystemdNotifier(process.env, this.logger, () => this.target);
    this.scheduler = new Scheduler(opts.config.cronTimezone, this.logger);
    this.jobs = new JobRuns(this.scheduler, () => this.workers.jobWorkers());
    this.stats = new MasterStats({
      config: opts.config,
      sockets: opts.sockets,
      maxBacklog: opts.maxBacklog,
      logger: this.logger,
      liveWorkers: () => this.workers.live(),
    });
    const host = {
      logger: this.logger,
      wake: () => this.wake(),
      halt: (exitCode: ExitCodeValue, message: string, code: ErrorCodeValue) =>
        this.halt(exitCode, message, code),
      stopping: () => (this.stopping ? { mode: this.stopping, since: this.stoppingSince } : null),
    };
    ({ mode: this.mode, proxy: this.proxy } = createMode({
      config: opts.config,
      sockets: opts.sockets,
      credentials: opts.credentials,
      tls: opts.tls,
      onDemand: opts.onDemand ?? null,
      host: {
        ...host,
        stopWorkers: (mode) => this.workers.stopAll(mode),
        workers: () => this.workers.views(),
        generation: () => this.workers.generation,
        timeoutMs: () => this.config.timeout * 1000,
        forkFailed: () => this.stats.counts.forkFailures++,
      },
    }));
    this.workers = new WorkerTable({
      host: {
        ...host,
        config: () => this.config,
        target: () => this.target,
        hook: (name, ...args) => this.hook(name, this.server, ...args),
        reloaded: (aborted) => this.notify.reloaded(aborted),
      },
      mode: this.mode,
      proxy: this.proxy,
      stats: this.stats,
      scheduler: this.scheduler,
      jobs: this.jobs,
      credentials: opts.credentials,
    });
  }

  private get logger() {
    return this.opts.log.logger;
  }

  /** What each signal does, handled in order by the loop (the listeners only enqueue). */
  private readonly onSignal: Readonly<Record<string, () => void>> = {
    // TERM: stop accepting, let workers finish (graceful); a second TERM, INT or QUIT: stop now.
    SIGTERM: () => {
      if (this.stopping === 'graceful' || this.deregistering) this.stop('quick');
      else if (!this.stopping && this.config.shutdownDelay > 0) this.deregister();
      else this.stop('graceful');
    },
    SIGINT: () => this.stop('quick'),
    SIGQUIT: () => this.stop('quick'),
    SIGHUP: () => void this.reload(),
    SIGTTIN: () => this.step('SIGTTIN'),
    SIGTTOU: () => this.step('SIGTTOU'),
    SIGUSR1: () => {
      reopenMasterLogs(this.config, this.opts.log, this.logs('USR1'));
      // Only to ready workers: before Node has installed the worker's handler, USR1 kills it,
      // and a booting worker opens its log files fresh anyway.
      this.workers.signalReady('SIGUSR1');
      this.proxy?.reopenLogs();
    },
    SIGUSR2: () =>
      this.upgrade.start(
        this.opts,
        () => this.hook('preExec', this.server),
        () => this.notify.upgradeEnded(this.stopping !== null),
      ),
    // WINCH: stop every worker but keep the master (the old master during an upgrade).
    SIGWINCH: () => {
      this.setTarget(0);
      // A HUP starts them again: the config's count, not this zero.
      this.operatorTarget = null;
      this.logger.info('WINCH: stopping all workers gracefully; HUP starts them again');
    },
  };

  run(): Promise<ArbiterResult> {
    for (const sig of Object.keys(this.onSignal) as NodeJS.Signals[]) {
      const listener = () => this.enqueue(sig);
      this.listeners.set(sig, listener);
      process.on(sig, listener);
    }
    this.unguard = guardChannels(this.logger, [
      (fd, reason) => this.workers.channelBroken(fd, reason),
      (fd, reason) => this.proxy?.channelBroken(fd, reason) ?? false,
    ]);
    // The master looks as often as workers beat: a missed beat is noticed within one more.
    this.ticker = setInterval(() => this.wake(), heartbeatMs(this.config.timeout));
    this.setCron();
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
    this.stats.start();
    this.wake();
    return new Promise((resolve) => {
      this.done = resolve;
    });
  }

  private enqueue(item: Queued): void {
    this.queue.push(item);
    this.wake();
  }

  private wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.loop());
  }

  private loop(): void {
    this.scheduled = false;
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
      if (typeof item === 'object') this.scale(item.scale);
      else {
        this.logger.info({ signal: item }, `handling signal ${item}`);
        this.onSignal[item]!();
      }
    }
    this.upgrade.maybePromote(this.config.pid);
    const stopLimitMs =
      this.stopping === 'quick' ? QUICK_STOP_MS : this.config.gracefulTimeout * 1000;
    this.workers.murder(Date.now(), stopLimitMs);
    if (this.stopping) {
      this.finishIfStopped();
      return;
    }
    this.workers.manage();
  }

  // --- the operator verbs ----------------------------------------------------------------------

  /** HUP: re-read the config, then replace the workers one batch at a time. */
  private async reload(): Promise<void> {
    if (this.stopping) return;
    await this.hook('onReload', this.server);
    const next = await readReloadedConfig(this.opts.argv, this.opts.startCwd, this.logger);
    if (next) this.applyReloadedConfig(next);
    if (this.stopping) return;
    this.workers.nextGeneration();
    this.stats.counts.reloads++;
    this.logger.info(
      { generation: this.workers.generation, workers: this.target },
      'reloading: replacing workers one at a time',
    );
    this.wake();
  }

  private applyReloadedConfig(next: Config): void {
    const io = { mode: this.mode, logger: this.logger, logs: this.logs('reload') };
    const before = this.config.workers;
    this.config = applyReloadedConfig(this.config, next, io);
    const { target, keptOperator } = targetAfterReload({
      before,
      after: this.config.workers,
      operator: this.operatorTarget,
      configured: workerCount(this.config.workers, this.logger),
    });
    if (keptOperator)
      this.logger.info(
        { workers: target },
        `reload: keeping the ${target} worker(s) an operator set (scale, TTIN/TTOU); the config's workers is unchanged`,
      );
    else this.operatorTarget = null;
    this.setTarget(target);
    this.setCron();
  }

  /** For preparedLogFiles: the workers' credentials, and where a failure is logged. */
  private logs(when: string) {
    return { owner: this.opts.credentials, logger: this.logger, when };
  }

  private setCron(): void {
    this.scheduler.setCron(this.config.cron, (entry) =>
      runCronAction(entry, {
        reload: () => this.enqueue('SIGHUP'),
        restartWorkers: () => {
          for (const w of this.workers.views()) if (w.state !== 'closing') w.retiring = true;
          this.wake();
        },
        logger: this.logger,
        credentials: this.opts.credentials,
      }),
    );
  }

  /** TTIN/TTOU: one worker more or fewer (target-step.ts says whether). */
  private step(signal: 'SIGTTIN' | 'SIGTTOU'): void {
    const { next, level, message } = targetStep(signal, this.target);
    if (next !== null) {
      this.setTarget(next);
      this.operatorTarget = next;
    }
    this.logger[level]({ workers: this.target }, message);
  }

  /** `tsgun scale N`: TTIN/TTOU to a number (kept by a reload that leaves `workers` alone). */
  private scale(workers: number | 'auto'): void {
    if (this.stopping) return;
    this.setTarget(workerCount(workers, this.logger));
    this.operatorTarget = this.target;
    this.logger.info({ workers: this.target }, `scale: ${this.target} worker(s)`);
  }

  private setTarget(next: number): void {
    const previous = this.target;
    this.target = next;
    this.proxy?.targetChanged(next);
    if (next !== previous) this.hook('nworkersChanged', this.server, next, previous);
  }

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
    const unlink = this.opts.ownsSocketFiles && !this.upgrade.shared;
    if (!this.stopping) closeAll(this.opts.sockets, unlink);
    if (!this.stopping) this.notify.stopping(mode, this.upgrade.shared);
    this.stopping = mode;
    this.stoppingSince = Date.now();
    if (this.proxy?.stop(mode) ?? true) this.workers.stopAll(mode);
    this.wake();
  }

  private halt(exitCode: ExitCodeValue, message: string, code: ErrorCodeValue): void {
    this.logger.fatal({ errorCode: code, exitCode }, `halting: ${message}`);
    this.result = { exitCode, error: `${message} [${code}]` };
    this.stop('quick');
  }

  private finishIfStopped(): void {
    if (this.workers.size > 0 || this.proxy?.running || !this.done) return;
    this.proxy?.close();
    if (this.ticker) clearInterval(this.ticker);
    this.stats.stop();
    this.scheduler.stop();
    this.stopWatching?.();
    for (const [sig, listener] of this.listeners) process.off(sig, listener);
    this.unguard?.();
    if (this.upgrade.pidfile) removePidfile(this.upgrade.pidfile);
    const done = this.done;
    this.done = null;
    void this.hook('onExit', this.server).then(() => {
      this.logger.info({ exitCode: this.result.exitCode }, 'shutdown complete');
      done(this.result);
    });
  }

  // --- what stats, /readyz, hooks and the control socket see -----------------------------------

  /** The control socket's verbs: stop, reload and scale are queued like the signals. */
  readonly operator: OperatorVerbs = {
    enqueue: (signal) => this.enqueue(signal),
    scale: (workers) => this.enqueue({ scale: workers }),
    status: () =>
      controlStatus(
        this.workers.views(),
        this.target,
        this.config.name ?? '',
        this.workers.respawn(Date.now()),
      ),
  };

  /** Everything --stats shows, read now. */
  snapshot(): StatsSnapshot {
    return this.stats.snapshot({
      targetWorkers: this.target,
      jobs: this.scheduler.views(),
      router: this.proxy?.stats() ?? null,
      workers: this.workers.views(),
    });
  }

  /**
   * /readyz: at least one worker accepting, not stopping, and (--readyz-queue) no more requests
   * waiting at the router than the threshold, as of its last report (once a second).
   */
  ready(): boolean {
    return (
      this.stopping === null &&
      !this.deregistering &&
      (this.proxy?.ready() ?? true) &&
      !overReadyzThreshold(this.proxy?.stats()?.queue.waiting ?? 0, this.config.readyzQueue) &&
      this.workers.views().some((w) => w.state === 'ready')
    );
  }

  /** What master hooks get as `server`. */
  readonly server: ServerFacade = masterFacade({
    config: () => this.config,
    logger: () => this.logger,
    workers: () => this.workers.views(),
  });

  private hook(name: HookName, ...args: unknown[]): Promise<void> {
    this.notify.hook(name);
    return runHook(this.config, name, this.logger, ...args);
  }
}
