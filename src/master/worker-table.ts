import type { Config } from '../config/registry.js';
import { ErrorCode, type ErrorCodeValue, ExitCode, type ExitCodeValue } from '../errors.js';
import type { HookName } from '../hooks.js';
import { masterMessage } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';
import { classifyExit, classifyForkFailure, haltReason } from './classify.js';
import { CrashBackoff } from './crash-backoff.js';
import type { JobRuns } from './job-runs.js';
import type { MasterStats } from './master-stats.js';
import type { DataPathMode, StopMode } from './modes/mode.js';
import { signalChild } from './own-children.js';
import { findNotReady, findOverdue, findTimedOut, pickWorkerIndex, planWorkers } from './plan.js';
import { heldTcpConnections } from './proc-net.js';
import type { Scheduler } from './scheduler.js';
import { forkWorker } from './spawn.js';
import type { Credentials } from './user.js';
import { dispatchWorkerMessage, type WorkerMessageHandlers } from './worker-messages.js';
import { newWorkerRecord, type WorkerRecord, workerFacade } from './worker-record.js';

/** What the worker table needs of the arbiter. */
export interface TableHost {
  readonly logger: Logger;
  config(): Config;
  stopping(): StopMode | null;
  /** How many workers the operator asked for. */
  target(): number;
  wake(): void;
  halt(exitCode: ExitCodeValue, message: string, code: ErrorCodeValue): void;
  /** Run a master hook; the arbiter passes its `server` first. */
  hook(name: HookName, ...args: unknown[]): void;
  /** A HUP's reload ended: every worker of the new generation is ready, or it was aborted. */
  reloaded(aborted: boolean): void;
}

export interface TableDeps {
  readonly host: TableHost;
  readonly mode: DataPathMode;
  readonly stats: MasterStats;
  readonly scheduler: Scheduler;
  readonly jobs: JobRuns;
  /** --user/--group, resolved: workers are forked with these. */
  readonly credentials: Credentials | null;
}

/**
 * The arbiter's worker table and what happens to one worker: forked (or the fork failed), its
 * messages, stopped, murdered when stuck, reaped (and why it exited decides: fine, a crash to
 * respawn, or a halt). The generation and the count are planned by plan.ts; where a worker listens
 * comes from the data-path mode.
 */
export class WorkerTable {
  private readonly workers = new Map<number, WorkerRecord>();
  private nextId = 1;
  /** The code generation new workers run; a HUP starts the next one. */
  generation = 1;
  private spawnAllowed = true;
  private reloading = false;
  private saidReady = false;
  /** Some worker has been ready: from then on a failed fork is retried, never a halt. */
  private everReady = false;
  private readonly backoff: CrashBackoff;

  constructor(private readonly deps: TableDeps) {
    this.backoff = new CrashBackoff(() => deps.host.wake());
  }

  private get host(): TableHost {
    return this.deps.host;
  }

  private get logger(): Logger {
    return this.deps.host.logger;
  }

  get size(): number {
    return this.workers.size;
  }

  views(): WorkerRecord[] {
    return [...this.workers.values()];
  }

  /** Workers not stopping. */
  live(): number {
    return this.views().filter((w) => w.state !== 'closing').length;
  }

  /** Who may run an app job: ready, of the current code, with its channel open. */
  jobWorkers(): WorkerRecord[] {
    return this.views().filter(
      (w) => w.state === 'ready' && w.generation === this.generation && w.child.connected,
    );
  }

  /** HUP: the next generation replaces the current one, one batch at a time. */
  nextGeneration(): void {
    this.generation++;
    this.spawnAllowed = true;
    this.reloading = true;
  }

  stopAll(mode: StopMode): void {
    for (const w of this.workers.values()) this.kill(w, mode);
  }

  signalReady(sig: NodeJS.Signals): void {
    for (const w of this.workers.values()) if (w.state === 'ready') this.signal(w, sig);
  }

  private signal(w: WorkerRecord, sig: NodeJS.Signals): void {
    signalChild(w.pid, sig);
  }
  /**
   * Kill stuck workers: a blocked loop (--timeout: SIGABRT, then SIGKILL on the next pass), one
   * not ready in time (--ready-timeout), one not stopped in time (`stopLimitMs`).
   */
  murder(now: number, stopLimitMs: number): void {
    const config = this.host.config();
    // Gunicorn's order: ABRT first (a worker whose loop still runs gets its workerAbort hook),
    // SIGKILL on the next pass.
    for (const w of this.views()) {
      if (w.abortedAt !== null && now > w.abortedAt) {
        w.abortedAt = null;
        this.signal(w, 'SIGKILL');
      }
    }
    const live = this.views().filter((w) => !w.murdered && w.state !== 'closing');
    for (const id of findTimedOut(live, now, config.timeout * 1000)) {
      const w = this.workers.get(id)!;
      // What the kill will cut, for the log: exact from /proc, else the last heartbeat's count.
      const connections = heldTcpConnections(w.pid) ?? w.connections;
      this.logger.error(
        { worker: w.id, workerPid: w.pid, timeout: config.timeout, connections },
        `WORKER TIMEOUT (pid:${w.pid}): event loop blocked, killing it with ${connections} open connection(s)`,
      );
      w.murdered = true;
      this.deps.stats.counts.killed++;
      const abort = () => {
        w.abortedAt = Date.now();
        this.signal(w, 'SIGABRT');
      };
      const told = this.deps.mode.timedOut(w.id);
      if (told) void told.then(abort);
      else abort();
    }
    for (const id of findNotReady(live, now, config.readyTimeout * 1000)) {
      const w = this.workers.get(id)!;
      if (w.murdered) continue;
      this.logger.error(
        { worker: w.id, workerPid: w.pid },
        `worker not ready within --ready-timeout ${config.readyTimeout} s, killing it`,
      );
      w.murdered = true;
      w.notReadyAfter = config.readyTimeout;
      this.signal(w, 'SIGKILL');
    }
    this.deps.mode.murder(now, stopLimitMs);
    for (const id of findOverdue(this.views(), now, stopLimitMs)) {
      const w = this.workers.get(id)!;
      if (w.murdered) continue;
      this.logger.warn(
        { worker: w.id, workerPid: w.pid },
        'worker did not stop in time, killing it',
      );
      w.murdered = true;
      this.deps.stats.counts.killed++;
      this.signal(w, 'SIGKILL');
    }
  }

  /** Spawn or stop workers to reach the target and roll out the current generation. */
  manage(): void {
    this.deps.mode.supervise(Date.now());
    const actions = planWorkers({
      workers: this.views(),
      target: this.host.target(),
      generation: this.generation,
      spawnAllowed: this.spawnAllowed && this.backoff.open(Date.now()),
      batch: this.host.config().reloadBatch,
    });
    for (const action of actions) {
      if (action.kind === 'spawn') {
        for (let i = 0; i < action.count && this.spawn(); i++);
      } else {
        for (const id of action.ids) this.kill(this.workers.get(id)!, 'graceful');
      }
    }
    if (
      this.reloading &&
      !this.views().some((w) => w.state === 'booting' || w.generation < this.generation)
    ) {
      this.reloading = false;
      this.logger.info({ generation: this.generation }, 'reload complete');
      this.host.reloaded(false);
    }
  }

  /** Fork one worker; false when the fork failed (reported by forkFailed, spawns paused). */
  private spawn(): boolean {
    const id = this.nextId++;
    const index = pickWorkerIndex(this.views(), this.generation);
    this.host.hook('preFork', { id, index, pid: null, generation: this.generation });
    const slot = this.deps.mode.slot(id, this.host.config());
    const forked = forkWorker({
      id,
      index,
      config: slot.config,
      sockets: slot.sockets,
      credentials: this.deps.credentials,
    });
    if (!forked.ok) {
      slot.release();
      // No spawn until the failure is reported (on the next tick) and its backoff is set.
      this.backoff.hold();
      void forked.error.then((err) => this.forkFailed(id, err));
      return false;
    }
    const { child, pid, spare } = forked;
    const record = newWorkerRecord(
      { id, index, child, pid, generation: this.generation, slot },
      Date.now(),
    );
    this.deps.stats.counts.spawned++;
    this.workers.set(id, record);
    slot.welcome(child);
    this.host.hook('postFork', workerFacade(record));
    child.on('message', (value: unknown) =>
      dispatchWorkerMessage(this.onMessage, record, value, this.logger),
    );
    child.on('exit', (code, signal) => this.reap(record, code, signal));
    child.on('error', (err) => this.logger.error({ worker: id, err }, 'worker process error'));
    this.logger.info(
      { worker: id, workerIndex: index, workerPid: pid, generation: this.generation, spare },
      'booting worker',
    );
    return true;
  }

  /**
   * A fork that failed started no process: counted, and retried under the crash backoff while
   * workers serve (or have served). One that fails before any worker was ever ready halts.
   */
  private forkFailed(id: number, err: Error): void {
    const counts = this.deps.stats.counts;
    counts.forkFailures++;
    const message = `cannot fork worker ${id}: ${err.message}`;
    if (
      classifyForkFailure({ everReady: this.everReady, liveWorkers: this.workers.size }) === 'halt'
    ) {
      this.host.halt(ExitCode.WORKER_BOOT, message, ErrorCode.FORK);
      return;
    }
    const delayMs = this.backoff.backoff();
    this.logger.error(
      {
        worker: id,
        err: err.message,
        errorCode: ErrorCode.FORK,
        forkFailures: counts.forkFailures,
      },
      `${message}; serving with ${this.workers.size} worker(s), retrying in ${delayMs} ms`,
    );
  }

  /** Stop one worker: TERM (drain) or QUIT (now), once the mode has withdrawn it. */
  kill(w: WorkerRecord, mode: StopMode): void {
    const wasReady = w.state === 'ready';
    if (w.state !== 'closing') {
      w.state = 'closing';
      w.closingSince = Date.now();
    }
    const sig = mode === 'graceful' ? 'SIGTERM' : 'SIGQUIT';
    const withdrawn = this.deps.mode.withdraw(wasReady, mode);
    if (withdrawn)
      void withdrawn.then(() => {
        if (this.workers.has(w.id)) this.signal(w, sig);
      });
    else this.signal(w, sig);
  }

  /** One small handler per message type (every message of ours also counts as a heartbeat). */
  private readonly onMessage: WorkerMessageHandlers<WorkerRecord> = {
    heartbeat: (w, m) => {
      w.connections = m.connections;
      if (m.requests !== undefined) w.requests = m.requests;
    },
    stats: (w, m) => {
      const { tsgun: _, type: __, ...current } = m;
      this.deps.stats.workerReport(w, current);
    },
    ready: (w) => {
      if (w.state === 'booting') w.state = 'ready';
      this.everReady = true;
      this.logger.info({ worker: w.id, workerPid: w.pid }, 'worker ready');
      this.deps.mode.readyChanged();
      const ready = this.views().filter((o) => o.state === 'ready').length;
      if (!this.saidReady && ready >= this.host.target()) {
        this.saidReady = true;
        this.host.hook('whenReady');
      }
      this.host.wake();
    },
    retire: (w, m) => {
      w.retiring = true;
      this.logger.info(
        { worker: w.id, workerPid: w.pid, reason: m.reason },
        `replacing worker: ${m.detail}`,
      );
      this.host.wake();
    },
    jobs: (w, m) => {
      if (w.generation === this.generation)
        this.deps.scheduler.setAppJobs(m.jobs, (name) => this.deps.jobs.dispatch(name));
    },
    'job-done': (_w, m) => this.deps.jobs.done(m.runId, m.ok, m.error, m.durationMs),
    'boot-error': (w, m) => {
      w.bootError = { code: m.code, message: m.message };
    },
    // Below --worker-connections again: the sockets of its slot, so it can accept again.
    // Seen by spare.ts, which hands a spare its boot; nothing for the table.
    'spare-waiting': () => {},
    'want-sockets': (w) => {
      w.slot.sockets.forEach((s, index) => {
        if (w.child.connected)
          w.child.send(masterMessage({ type: 'socket', index }), s.handle as never);
      });
    },
  };

  /** A worker is gone: decide, from why, whether that is fine, a crash to respawn, or a halt. */
  private reap(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(w.id);
    this.deps.stats.counts.exited++;
    this.deps.stats.workerGone(w);
    this.deps.mode.readyChanged();
    w.slot.release();
    this.host.hook('childExit', workerFacade(w));
    this.deps.jobs.workerExited(w);
    const verdict = classifyExit({
      state: w.state,
      code,
      signal,
      bootError: w.bootError,
      masterStopping: this.host.stopping() !== null,
      murdered: w.murdered,
      notReadyAfter: w.notReadyAfter,
    });
    const fields = { worker: w.id, workerPid: w.pid, code, signal };
    switch (verdict.kind) {
      case 'expected':
        this.logger.info(fields, 'worker exited');
        break;
      case 'crash': {
        this.deps.stats.counts.respawns++;
        const delayMs = this.backoff.backoff();
        const backoff =
          delayMs > 0 ? ` (crash ${this.backoff.count} in a row: waiting ${delayMs} ms)` : '';
        this.logger.error(fields, `${verdict.message} (pid:${w.pid}); respawning${backoff}`);
        break;
      }
      case 'boot-failure': {
        const serving = this.views().filter((o) => o.state === 'ready');
        if (serving.length === 0) {
          // The worker's own record told the error in full: the halt line refers to it.
          const { errorLogfile, logLevel } = this.host.config();
          const reason = haltReason({
            ...verdict,
            reported: w.bootError !== null,
            worker: w.id,
            workerPid: w.pid,
            errorLogfile,
            logLevel,
          });
          this.host.halt(verdict.exitCode, reason, verdict.code);
          break;
        }
        // Others still serve the old code: keep them, abort the reload, and wait for a fix.
        this.logger.error(
          { ...fields, errorCode: verdict.code },
          `${verdict.message}; keeping ${serving.length} serving worker(s), no more spawns until the next HUP`,
        );
        this.spawnAllowed = false;
        this.reloading = false;
        this.host.reloaded(true);
        for (const o of this.workers.values()) o.generation = this.generation;
        break;
      }
    }
    this.host.wake();
  }
}
