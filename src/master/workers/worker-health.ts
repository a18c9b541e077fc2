import type { Config } from '../../config/registry.js';
import { ErrorCode, ExitCode } from '../../errors.js';
import type { HookName } from '../../hooks.js';
import type { ControlRespawn } from '../../ipc/control.js';
import type { Logger } from '../../log/logger.js';
import { respawnState } from '../decisions/plan.js';
import type { ArbiterHost } from '../modes/mode.js';
import type { MasterStats } from '../stats/master-stats.js';
import {
  classifyBootFailure,
  classifyForkFailure,
  type ExitClass,
  haltReason,
} from './classify.js';
import { CrashBackoff } from './crash-backoff.js';
import type { WorkerRecord } from './worker-record.js';

/** What the health of the workers needs of the arbiter. */
export interface HealthHost extends Omit<ArbiterHost, 'stopping'> {
  config(): Config;
  /** How many workers the operator asked for. */
  target(): number;
  /** Run a master hook; the arbiter passes its `server` first. */
  hook(name: HookName, ...args: unknown[]): void;
  /** A HUP's reload ended: every worker of the new generation is ready, or it was aborted. */
  reloaded(aborted: boolean): void;
}

/** What the health of the workers needs to know of the table. */
export interface HealthTable {
  views(): WorkerRecord[];
  /** Workers of the current code still to start. */
  missing(): number;
  /** Workers not stopping. */
  live(): number;
  readonly size: number;
  readonly generation: number;
}

/**
 * How the workers are faring, and what a failure means: the crash backoff, the failed boots in a
 * row (retried one at a time), whether a worker was ever ready (from then on nothing halts), the
 * HUP's rollout of a new generation (complete, or aborted by a boot failure) and the first time
 * the target is ready (whenReady). The decisions are classify.ts's and plan.ts's; this holds the
 * state they are made from, and logs and acts on them. The table (worker-table.ts) tells it what
 * happened to a worker.
 */
export class WorkerHealth {
  /** Workers that failed to boot since one was last ready: retried one at a time. */
  private failedBoots = 0;
  private reloading = false;
  private saidReady = false;
  /** Some worker has been ready: from then on a failed fork is retried, never a halt. */
  private everReady = false;
  private readonly backoff: CrashBackoff;

  constructor(
    private readonly host: HealthHost,
    private readonly stats: Pick<MasterStats, 'counts'>,
    private readonly table: HealthTable,
  ) {
    this.backoff = new CrashBackoff(() => host.wake());
  }

  private get logger(): Logger {
    return this.host.logger;
  }

  /** Missing workers, for `tsgun status`: why, and when the next attempt is. */
  respawn(now: number): ControlRespawn | null {
    return respawnState({
      missing: this.table.missing(),
      failedBoots: this.failedBoots,
      crashes: this.backoff.count,
      resumeAt: this.backoff.resumeAt,
      now,
    });
  }

  /** What the plan of workers needs: may a worker be forked now, and only one (a probe)? */
  planFacts(now: number): { spawnAllowed: boolean; probe: boolean } {
    return { spawnAllowed: this.backoff.open(now), probe: this.failedBoots > 0 };
  }

  /** HUP: the next generation rolls out; failed boots of the previous one no longer count. */
  rollout(): void {
    this.failedBoots = 0;
    this.reloading = true;
  }

  /** After each pass: a rollout is complete once nothing boots and nothing older is left. */
  checkRollout(): void {
    const { generation } = this.table;
    if (
      this.reloading &&
      !this.table.views().some((w) => w.state === 'booting' || w.generation < generation)
    ) {
      this.reloading = false;
      this.logger.info({ generation }, 'reload complete');
      this.host.reloaded(false);
    }
  }

  /** A worker is ready: the first time the target is reached runs whenReady. */
  ready(): void {
    this.everReady = true;
    this.failedBoots = 0;
    const ready = this.table.views().filter((o) => o.state === 'ready').length;
    if (!this.saidReady && ready >= this.host.target()) {
      this.saidReady = true;
      this.host.hook('whenReady');
    }
  }

  /** A fork failed: no spawn until the failure is reported (on a later tick) and its backoff set. */
  forkHeld(): void {
    this.backoff.hold();
  }

  /**
   * A fork that failed started no process: counted, and retried under the crash backoff while
   * workers serve (or have served). One that fails before any worker was ever ready halts.
   */
  forkFailed(id: number, err: Error): void {
    const counts = this.stats.counts;
    counts.forkFailures++;
    const message = `cannot fork worker ${id}: ${err.message}`;
    const live = this.table.size;
    if (classifyForkFailure({ everReady: this.everReady, liveWorkers: live }) === 'halt') {
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
      `${message}; serving with ${live} worker(s), retrying in ${delayMs} ms`,
    );
  }

  /** A reaped worker, with why it exited (classify.ts): fine, a crash to respawn, or a halt. */
  exited(w: WorkerRecord, verdict: ExitClass, fields: Record<string, unknown>): void {
    switch (verdict.kind) {
      case 'expected':
        this.logger.info(fields, 'worker exited');
        break;
      case 'crash':
        this.crashed(w, verdict.message, fields);
        break;
      case 'boot-failure':
        this.bootFailed(w, verdict, fields);
        break;
    }
  }

  private crashed(w: WorkerRecord, message: string, fields: Record<string, unknown>): void {
    const delayMs = this.backoff.backoff();
    // WINCH (target 0) or a scale-down under way: the log says so rather than a respawn.
    if (this.table.missing() === 0) {
      this.logger.error(
        fields,
        `${message} (pid:${w.pid}); not respawned: ${this.table.live()} of ${this.host.target()} worker(s) running`,
      );
      return;
    }
    this.stats.counts.respawns++;
    const backoff =
      delayMs > 0 ? ` (crash ${this.backoff.count} in a row: waiting ${delayMs} ms)` : '';
    this.logger.error(
      { ...fields, retryInMs: delayMs, nextAttemptAt: new Date(Date.now() + delayMs) },
      `${message} (pid:${w.pid}); respawning${backoff}`,
    );
  }

  private bootFailed(
    w: WorkerRecord,
    verdict: Extract<ExitClass, { kind: 'boot-failure' }>,
    fields: Record<string, unknown>,
  ): void {
    this.failedBoots++;
    const serving = this.table.views().filter((o) => o.state === 'ready').length;
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
      return;
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
      for (const o of this.table.views()) o.generation = this.table.generation;
      return;
    }
    if (this.table.missing() === 0) {
      this.logger.error(failure, `${verdict.message}; not retried: no worker missing`);
      return;
    }
    this.logger.error(
      { ...failure, retryInMs: delayMs, nextAttemptAt: new Date(Date.now() + delayMs) },
      `${verdict.message}; ${serving} of ${this.host.target()} worker(s) serving, ` +
        `retrying in ${retryIn(delayMs)} (${this.failedBoots} failed boot(s) in a row)`,
    );
  }
}

/** "300 ms", "6.4 s": a wait as the log says it. */
function retryIn(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;
}
