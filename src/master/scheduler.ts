import type { ScheduledTask } from 'node-cron';
import type { CronEntry } from '../config/registry.js';
import type { Logger } from '../log/logger.js';
import { nodeRequire } from '../node-require.js';

/** What stats show of a scheduled job. */
export interface JobView {
  readonly name: string;
  readonly schedule: string;
  readonly source: 'app' | 'cron';
  readonly running: boolean;
  readonly runs: number;
  readonly skipped: number;
  readonly lastRunAt: string | null;
  readonly lastDurationMs: number | null;
  readonly lastResult: 'ok' | 'failed' | null;
  readonly lastError: string | null;
  readonly nextRun: string | null;
}

interface Job {
  readonly name: string;
  readonly schedule: string;
  readonly source: 'app' | 'cron';
  readonly task: ScheduledTask;
  running: boolean;
  runs: number;
  skipped: number;
  lastRunAt: number | null;
  lastDurationMs: number | null;
  lastResult: 'ok' | 'failed' | null;
  lastError: string | null;
}

/** Starts one run of a job; resolves when it is over (or returns false: nothing could run it). */
export type Runner = (name: string) => boolean;

/**
 * The master's clock for --cron entries and app-declared jobs (node-cron). Each tick runs a job
 * once, in one place (the master for --cron actions, one chosen worker for app jobs), and never
 * while its previous run is still going: that tick is skipped and logged.
 */
export class Scheduler {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly timezone: string | null,
    private readonly logger: Logger,
  ) {}

  private add(name: string, spec: string, source: Job['source'], start: (job: Job) => void): void {
    // Loaded with the first job: a master without jobs never loads node-cron.
    const { schedule } = nodeRequire('node-cron') as typeof import('node-cron');
    const task = schedule(
      spec,
      () => {
        const job = this.jobs.get(name);
        if (!job || job.task !== task) return;
        if (job.running) {
          job.skipped++;
          this.logger.warn({ job: name }, `job ${name} is still running: this tick is skipped`);
          return;
        }
        job.running = true;
        job.lastRunAt = Date.now();
        start(job);
      },
      { ...(this.timezone ? { timezone: this.timezone } : {}), name, suppressMissedWarning: true },
    );
    this.jobs.set(name, {
      name,
      schedule: spec,
      source,
      task,
      running: false,
      runs: 0,
      skipped: 0,
      lastRunAt: null,
      lastDurationMs: null,
      lastResult: null,
      lastError: null,
    });
  }

  private remove(source: Job['source']): void {
    for (const [name, job] of this.jobs) {
      if (job.source !== source) continue;
      void job.task.destroy();
      this.jobs.delete(name);
    }
  }

  /** --cron entries, run by the master itself. Called at start and on HUP. */
  setCron(
    entries: readonly CronEntry[],
    run: (entry: CronEntry) => Promise<{ ok: boolean; error: string | null }>,
  ): void {
    this.remove('cron');
    entries.forEach((entry, i) => {
      const name = `cron[${i}] ${entry.action.kind === 'exec' ? `exec:${entry.action.command}` : entry.action.kind}`;
      this.add(name, entry.spec, 'cron', (job) => {
        const started = performance.now();
        run(entry).then((r) => this.finish(job.name, r.ok, r.error, performance.now() - started));
      });
    });
  }

  /** The app's jobs, as a worker of the current code reported them; rescheduled only on change. */
  setAppJobs(jobs: readonly { name: string; schedule: string }[], runner: Runner): void {
    const current = [...this.jobs.values()]
      .filter((j) => j.source === 'app')
      .map((j) => `${j.name}\n${j.schedule}`);
    const next = jobs.map((j) => `${j.name}\n${j.schedule}`);
    if (current.length === next.length && current.every((c, i) => c === next[i])) return;
    this.remove('app');
    for (const { name, schedule: spec } of jobs) {
      this.add(name, spec, 'app', (job) => {
        if (!runner(name)) this.finish(job.name, false, 'no ready worker to run it', 0);
      });
    }
    this.logger.info({ jobs: jobs.map((j) => j.name) }, `scheduled ${jobs.length} app job(s)`);
  }

  finish(name: string, ok: boolean, error: string | null, durationMs: number): void {
    const job = this.jobs.get(name);
    if (!job) return;
    job.running = false;
    job.runs++;
    job.lastDurationMs = durationMs;
    job.lastResult = ok ? 'ok' : 'failed';
    job.lastError = error;
    const fields = { job: name, durationMs: Math.round(durationMs), ok };
    if (ok) this.logger.info(fields, `job ${name} done`);
    else this.logger.error({ ...fields, error }, `job ${name} failed: ${error}`);
  }

  views(): JobView[] {
    return [...this.jobs.values()].map((j) => ({
      name: j.name,
      schedule: j.schedule,
      source: j.source,
      running: j.running,
      runs: j.runs,
      skipped: j.skipped,
      lastRunAt: j.lastRunAt === null ? null : new Date(j.lastRunAt).toISOString(),
      lastDurationMs: j.lastDurationMs,
      lastResult: j.lastResult,
      lastError: j.lastError,
      nextRun: j.task.getNextRun()?.toISOString() ?? null,
    }));
  }

  stop(): void {
    this.remove('cron');
    this.remove('app');
  }
}
