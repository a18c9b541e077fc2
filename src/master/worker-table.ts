import type { Config } from '../config/registry.js';
import { ErrorCode, ExitCode } from '../errors.js';
import type { HookName } from '../hooks.js';
import type { ControlRespawn } from '../ipc/control.js';
import type { Logger } from '../log/logger.js';
import { channelFd } from '../platform/ipc-channel.js';
import { classifyBootFailure, classifyExit, classifyForkFailure, haltReason } from './classify.js';
import { CrashBackoff } from './crash-backoff.js';
import type { JobRuns } from './job-runs.js';
import type { MasterStats } from './master-stats.js';
import type { ArbiterHost, DataPathMode, StopMode } from './modes/mode.js';
import type { ProxyLayer } from './modes/proxy-layer.js';
import { murderStuck } from './murder.js';
import { signalChild } from './own-children.js';
import { missingWorkers, pickWorkerIndex, planWorkers, respawnState, stopSignal } from './plan.js';
import type { Scheduler } from './scheduler.js';
import { forkWorker } from './spawn.js';
import type { Credentials } from './user.js';
import {
  dispatchWorkerMessage,
  OnceMessages,
  type WorkerMessageHandlers,
  workerSender,
} from './worker-messages.js';
import { WorkerNotices } from './worker-notices.js';
import { newWorkerRecord, type WorkerRecord, workerFacade } from './worker-record.js';
import { tableMessages } from './worker-table-messages.js';

/** What the worker table needs of the arbiter. */
export interface TableHost extends ArbiterHost {
  config(): Config;
  /** How many workers the operator asked for. */
  target(): number;
  /** Run a master hook; the arbiter passes its `server` first. */
  hook(name: HookName, ...args: unknown[]): void;
  /** A HUP's reload ended: every worker of the new generation is ready, or it was aborted. */
  reloaded(aborted: boolean): void;
}

export interface TableDeps {
  readonly host: TableHost;
  readonly mode: DataPathMode;
  /** Router mode's processes between clients and workers; null in direct mode. */
  readonly proxy: ProxyLayer | null;
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
  /** `ready` and `jobs`, once per worker. */
  private readonly once = new OnceMessages();
  private nextId = 1;
  /** The code generation new workers run; a HUP starts the next one. */
  generation = 1;
  /** Workers that failed to boot since one was last ready: retried one at a time. */
  private failedBoots = 0;
  /** Forks the last plan asked for and not done yet: one per pass of the loop (manage). */
  private owedSpawns = 0;
  private reloading = false;
  private saidReady = false;
  /** Some worker has been ready: from then on a failed fork is retried, never a halt. */
  private everReady = false;
  private readonly backoff: CrashBackoff;
  private readonly notices = new WorkerNotices(() => this.logger);

  constructor(private readonly deps: TableDeps) {
    this.backoff = new CrashBackoff(() => deps.host.wake());
    this.onMessage = tableMessages({
      deps,
      once: this.once,
      notices: this.notices,
      views: () => this.views(),
      generation: () => this.generation,
      ready: (w) => this.ready(w),
    });
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

  /** Missing workers, for `tsgun status`: why, and when the next attempt is. */
  respawn(now: number): ControlRespawn | null {
    return respawnState({
      missing: this.missing(),
      failedBoots: this.failedBoots,
      crashes: this.backoff.count,
      resumeAt: this.backoff.resumeAt,
      now,
    });
  }

  /** Workers of the current code still to start. */
  private missing(): number {
    return missingWorkers(this.views(), this.host.target(), this.generation);
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
    this.failedBoots = 0;
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
  /** Kill stuck workers (murder.ts says which and how). */
  murder(now: number, stopLimitMs: number): void {
    murderStuck(
      {
        workers: this.views(),
        config: this.host.config(),
        logger: this.logger,
        counts: this.deps.stats.counts,
        timedOut: (id) => this.deps.proxy?.timedOut(id) ?? null,
      },
      now,
      stopLimitMs,
    );
    this.deps.proxy?.murder(now, stopLimitMs);
  }

  /**
   * Spawn or stop workers to reach the target and roll out the current generation. One fork per
   * pass: a fork blocks the master, and the loop reads its signal queue between passes, so a TERM
   * while many workers start is handled after the fork under way, not after all of them.
   */
  manage(): void {
    this.deps.proxy?.supervise(Date.now());
    if (this.owedSpawns === 0) {
      for (const action of planWorkers({
        workers: this.views(),
        target: this.host.target(),
        generation: this.generation,
        spawnAllowed: this.backoff.open(Date.now()),
        probe: this.failedBoots > 0,
        batch: this.host.config().reloadBatch,
      })) {
        if (action.kind === 'spawn') this.owedSpawns = action.count;
        else for (const id of action.ids) this.kill(this.workers.get(id)!, 'graceful');
      }
    }
    if (this.owedSpawns > 0) {
      // A failed fork holds spawns under the backoff: the rest is planned again after it.
      this.owedSpawns = this.spawn() ? this.owedSpawns - 1 : 0;
      if (this.owedSpawns > 0) this.host.wake();
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
      portEnv: !slot.bind,
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
    const sender = workerSender(
      record,
      () => this.host.wake(),
      () => this.cutOff(record),
    );
    child.on('message', (value: unknown) =>
      dispatchWorkerMessage(this.onMessage, record, value, this.logger, sender),
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
    const sig = stopSignal(w.stopSignal, mode);
    if (sig === null) return;
    w.stopSignal = sig;
    // The quick-stop grace counts from the QUIT, also for a worker already draining.
    if (w.state !== 'closing' || sig === 'SIGQUIT') w.closingSince = Date.now();
    w.state = 'closing';
    const withdrawn = this.deps.proxy?.withdraw(wasReady, mode) ?? null;
    if (withdrawn)
      void withdrawn.then(() => {
        if (this.workers.has(w.id)) this.signal(w, sig);
      });
    else this.signal(w, sig);
  }

  /** One small handler per message type (worker-table-messages.ts). */
  private readonly onMessage: WorkerMessageHandlers<WorkerRecord>;

  /** A worker said it is ready: the first time the target is reached runs whenReady. */
  private ready(w: WorkerRecord): void {
    if (w.state === 'booting') w.state = 'ready';
    this.everReady = true;
    this.failedBoots = 0;
    this.logger.info({ worker: w.id, workerPid: w.pid }, 'worker ready');
    this.deps.proxy?.readyChanged();
    const ready = this.views().filter((o) => o.state === 'ready').length;
    if (!this.saidReady && ready >= this.host.target()) {
      this.saidReady = true;
      this.host.hook('whenReady');
    }
    this.host.wake();
  }

  /**
   * Node's channel reader threw on what the worker whose channel has this fd wrote (not JSON, or
   * more than a string can hold without a newline): that channel cannot be read any more. The
   * worker is stopped and its channel closed, which frees what Node had buffered of it.
   * False when no worker has that channel.
   */
  channelBroken(fd: number | null, reason: string): boolean {
    const w = this.views().find((o) => fd !== null && channelFd(o.child) === fd);
    if (!w) return false;
    this.logger.error(
      { worker: w.id, workerPid: w.pid, reason },
      `stopping worker ${w.id}: its IPC channel is broken (${reason})`,
    );
    this.cutOff(w);
    return true;
  }

  /** Stop a worker and close its channel at once (which ends it: child/attach.ts). */
  private cutOff(w: WorkerRecord): void {
    if (w.state !== 'closing') this.kill(w, 'graceful');
    if (w.child.connected) w.child.disconnect();
  }

  /** A worker is gone: decide, from why, whether that is fine, a crash to respawn, or a halt. */
  private reap(w: WorkerRecord, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(w.id);
    // Planned again on the next pass, with this exit (and any backoff it brings) known.
    this.owedSpawns = 0;
    this.once.forget(w.id);
    this.deps.stats.counts.exited++;
    this.deps.stats.workerGone(w);
    this.deps.proxy?.readyChanged();
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
        const delayMs = this.backoff.backoff();
        // WINCH (target 0) or a scale-down under way: the log says so rather than a respawn.
        if (this.missing() === 0) {
          this.logger.error(
            fields,
            `${verdict.message} (pid:${w.pid}); not respawned: ${this.live()} of ${this.host.target()} worker(s) running`,
          );
          break;
        }
        this.deps.stats.counts.respawns++;
        const backoff =
          delayMs > 0 ? ` (crash ${this.backoff.count} in a row: waiting ${delayMs} ms)` : '';
        this.logger.error(
          { ...fields, retryInMs: delayMs, nextAttemptAt: new Date(Date.now() + delayMs) },
          `${verdict.message} (pid:${w.pid}); respawning${backoff}`,
        );
        break;
      }
      case 'boot-failure': {
        this.failedBoots++;
        const serving = this.views().filter((o) => o.state === 'ready').length;
        const action = classifyBootFailure({
          everReady: this.everReady,
          reloading: this.reloading,
          serving,
        });
        if (action === 'halt') {
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
        const delayMs = this.backoff.backoff();
        const failure = { ...fields, errorCode: verdict.code, failedBoots: this.failedBoots };
        if (action === 'abort-reload') {
          // Others still serve the old code: keep them. A worker that dies later is replaced
          // from the file on disk, which boots once the app is fixed (no HUP needed).
          this.logger.error(
            failure,
            `${verdict.message}; keeping ${serving} serving worker(s), reload aborted`,
          );
          this.reloading = false;
          this.host.reloaded(true);
          for (const o of this.workers.values()) o.generation = this.generation;
          break;
        }
        if (this.missing() === 0) {
          this.logger.error(failure, `${verdict.message}; not retried: no worker missing`);
          break;
        }
        this.logger.error(
          { ...failure, retryInMs: delayMs, nextAttemptAt: new Date(Date.now() + delayMs) },
          `${verdict.message}; ${serving} of ${this.host.target()} worker(s) serving, ` +
            `retrying in ${retryIn(delayMs)} (${this.failedBoots} failed boot(s) in a row)`,
        );
        break;
      }
    }
    this.host.wake();
  }
}

/** "300 ms", "6.4 s": a wait as the log says it. */
function retryIn(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}
