import type { ScheduledTask } from 'node-cron';
import type { CronEntry } from '../../config/registry.js';
import type { Logger } from '../../log/logger.js';
import { nodeRequire } from '../../node-require.js';

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
  /**
   * By `source:name`: the app's jobs and the operator's --cron entries are two namespaces, so no
   * name an app declares can replace or shadow a --cron entry.
   */
  private readonly jobs = new Map<string, Job>();
  /** The app's list as last declared, valid or not: what "changed" is measured against. */
  private declared = '';

  constructor(
    private readonly timezone: string | null,
    private readonly logger: Logger,
  ) {}

  /**
   * Schedule one job; the reason it cannot be, or null. node-cron throws on a bad expression (and
   * may on what its validate() accepts): never into the master.
   */
  private add(
    name: string,
    spec: string,
    source: Job['source'],
    start: (job: Job) => void,
  ): string | null {
    const key = `${source}:${name}`;
    // Loaded with the first job: a master without jobs never loads node-cron.
    const cron = nodeRequire('node-cron') as typeof import('node-cron');
    let task: ScheduledTask;
    try {
      if (!cron.validate(spec)) return `invalid cron schedule ${JSON.stringify(spec)}`;
      task = cron.schedule(spec, () => this.tick(key, task, start), {
        ...(this.timezone ? { timezone: this.timezone } : {}),
        name: key,
        suppressMissedWarning: true,
      });
    } catch (err) {
      return `cannot schedule ${JSON.stringify(spec)}: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.jobs.set(key, {
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
    return null;
  }

  /** One tick of the job under `key`, unless its previous run is still going. */
  private tick(key: string, task: ScheduledTask, start: (job: Job) => void): void {
    const job = this.jobs.get(key);
    if (!job || job.task !== task) return;
    const name = job.name;
    if (job.running) {
      job.skipped++;
      this.logger.warn({ job: name }, `job ${name} is still running: this tick is skipped`);
      return;
    }
    job.running = true;
    job.lastRunAt = Date.now();
    start(job);
  }

  private remove(source: Job['source']): void {
    for (const [key, job] of this.jobs) {
      if (job.source !== source) continue;
      void job.task.destroy();
      this.jobs.delete(key);
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
      const problem = this.add(name, entry.spec, 'cron', (job) => {
        const started = performance.now();
        run(entry).then((r) => this.done(job, r.ok, r.error, performance.now() - started));
      });
      if (problem) this.logger.error({ job: name }, `--cron entry ${i} not scheduled: ${problem}`);
    });
  }

  /**
   * The app's jobs, as a worker of the current code declared them (names and sizes checked on
   * receipt: src/ipc/limits.ts); rescheduled only on change. A job node-cron refuses is left out,
   * with one line.
   */
  setAppJobs(jobs: readonly { name: string; schedule: string }[], runner: Runner): void {
    const declared = JSON.stringify(jobs.map((j) => [j.name, j.schedule]));
    if (declared === this.declared) return;
    this.declared = declared;
    this.remove('app');
    const scheduled: string[] = [];
    for (const { name, schedule: spec } of jobs) {
      if (this.jobs.has(`app:${name}`)) continue;
      const problem = this.add(name, spec, 'app', (job) => {
        if (!runner(name)) this.done(job, false, 'no ready worker to run it', 0);
      });
      if (problem) this.logger.error({ job: name }, `app job ${name} not scheduled: ${problem}`);
      else scheduled.push(name);
    }
    this.logger.info({ jobs: scheduled }, `scheduled ${scheduled.length} app job(s)`);
  }

  /** An app job's run ended (job-runs.ts). */
  finish(name: string, ok: boolean, error: string | null, durationMs: number): void {
    const job = this.jobs.get(`app:${name}`);
    if (job) this.done(job, ok, error, durationMs);
  }

  private done(job: Job, ok: boolean, error: string | null, durationMs: number): void {
    const name = job.name;
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
