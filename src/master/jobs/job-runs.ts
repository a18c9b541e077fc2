import type { ChildProcess } from 'node:child_process';
import type { CronEntry } from '../../config/registry.js';
import { masterMessage } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import type { Credentials } from '../host/user.js';
import { runExec } from './exec.js';
import type { Scheduler } from './scheduler.js';

/** A worker that may run an app job: ready, of the current code, with its channel open. */
export interface JobWorker {
  readonly id: number;
  readonly child: ChildProcess;
}

/**
 * App job runs handed to a worker and not reported done yet. Each run has an id, so a worker's
 * `job-done` finishes exactly its run, and a worker that exits mid-run fails the runs it held.
 */
export class JobRuns {
  private readonly runs = new Map<number, { name: string; workerId: number }>();
  private nextRunId = 1;
  private nextJobWorker = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly candidates: () => readonly JobWorker[],
  ) {}

  /** One tick of an app job: one ready worker of the current code runs it (round-robin). */
  dispatch(name: string): boolean {
    const ready = this.candidates();
    if (ready.length === 0) return false;
    const w = ready[this.nextJobWorker++ % ready.length]!;
    const runId = this.nextRunId++;
    this.runs.set(runId, { name, workerId: w.id });
    w.child.send(masterMessage({ type: 'run-job', name, runId }));
    return true;
  }

  /** Worker `workerId` reported the end of a run: only the worker that holds it can end it. */
  done(
    workerId: number,
    runId: number,
    ok: boolean,
    error: string | null,
    durationMs: number,
  ): void {
    const run = this.runs.get(runId);
    if (!run || run.workerId !== workerId) return;
    this.runs.delete(runId);
    this.scheduler.finish(run.name, ok, error, durationMs);
  }

  /** A worker is gone: the runs it held failed. */
  workerExited(w: { readonly id: number; readonly pid: number }): void {
    for (const [runId, run] of this.runs) {
      if (run.workerId !== w.id) continue;
      this.runs.delete(runId);
      this.scheduler.finish(run.name, false, `worker ${w.pid} exited during the job`, 0);
    }
  }
}

/** What a --cron action may ask of the master. */
export interface CronVerbs {
  /** Reload, as HUP does. */
  reload(): void;
  /** Mark every worker for replacement (like max-requests recycling). */
  restartWorkers(): void;
  readonly logger: Logger;
  /** --user/--group: exec actions run as the workers' user. */
  readonly credentials: Credentials | null;
}

/** A --cron action, run by the master. */
export function runCronAction(
  entry: CronEntry,
  verbs: CronVerbs,
): Promise<{ ok: boolean; error: string | null }> {
  switch (entry.action.kind) {
    case 'reload':
      verbs.reload();
      return Promise.resolve({ ok: true, error: null });
    case 'restart-workers':
      // Replaced like max-requests recycling: one batch at a time, each after its replacement.
      verbs.restartWorkers();
      verbs.logger.info('cron: restarting every worker, one batch at a time');
      return Promise.resolve({ ok: true, error: null });
    case 'exec':
      return runExec(entry.action.command, verbs.logger, verbs.credentials);
  }
}
