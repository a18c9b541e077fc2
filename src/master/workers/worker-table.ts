import type { ControlRespawn } from '../../ipc/control.js';
import type { Logger } from '../../log/logger.js';
import { channelFd } from '../../platform/ipc-channel.js';
import { forkWorker } from '../children/spawn.js';
import {
  dispatchWorkerMessage,
  OnceMessages,
  type WorkerMessageHandlers,
  workerSender,
} from '../children/worker-messages.js';
import { missingWorkers, pickWorkerIndex, planWorkers, stopSignal } from '../decisions/plan.js';
import { signalChild } from '../host/own-children.js';
import type { Credentials } from '../host/user.js';
import type { JobRuns } from '../jobs/job-runs.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { ArbiterHost, DataPathMode, StopMode } from '../modes/mode.js';
import type { ProxyLayer } from '../modes/proxy-layer.js';
import type { MasterStats } from '../stats/master-stats.js';
import { classifyExit } from './classify.js';
import { murderStuck } from './murder.js';
import { type HealthHost, WorkerHealth } from './worker-health.js';
import { WorkerNotices } from './worker-notices.js';
import { newWorkerRecord, type WorkerRecord, workerFacade } from './worker-record.js';
import { tableMessages } from './worker-table-messages.js';

/** What the worker table needs of the arbiter: what its health needs, and the master's stop. */
export interface TableHost extends ArbiterHost, HealthHost {}

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
 * comes from the data-path mode; what a failure means, and the HUP's rollout, worker-health.ts.
 */
export class WorkerTable {
  private readonly workers = new Map<number, WorkerRecord>();
  /** `ready` and `jobs`, once per worker. */
  private readonly once = new OnceMessages();
  private nextId = 1;
  /** The code generation new workers run; a HUP starts the next one. */
  generation = 1;
  /** Forks the last plan asked for and not done yet: one per pass of the loop (manage). */
  private owedSpawns = 0;
  private readonly health: WorkerHealth;
  private readonly notices = new WorkerNotices(() => this.logger);

  constructor(private readonly deps: TableDeps) {
    this.health = new WorkerHealth(deps.host, deps.stats, this);
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
    return this.health.respawn(now);
  }

  /** Workers of the current code still to start. */
  missing(): number {
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
    this.health.rollout();
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
        ...this.health.planFacts(Date.now()),
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
    this.health.checkRollout();
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
      this.health.forkHeld();
      void forked.error.then((err) => this.health.forkFailed(id, err));
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
    this.logger.info({ worker: w.id, workerPid: w.pid }, 'worker ready');
    this.deps.proxy?.readyChanged();
    this.health.ready();
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

  /** Stop a worker and close its channel at once (it drains and exits: child/attach.ts). */
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
    this.health.exited(w, verdict, { worker: w.id, workerPid: w.pid, code, signal });
    // After the health verdict: an aborted reload makes the old workers current again, which
    // the router's list must say (a stale worker gets no new --sticky cookie session).
    this.deps.proxy?.readyChanged();
    this.host.wake();
  }
}
