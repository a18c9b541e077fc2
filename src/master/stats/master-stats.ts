import type { Config } from '../../config/registry.js';
import type { WorkerCounters } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import { VERSION } from '../../version.js';
import type { WorkerState } from '../decisions/plan.js';
import type { JobView } from '../jobs/scheduler.js';
import type { RouterStats } from '../modes/router-process.js';
import { readListenQueues } from '../sockets/listen-queue.js';
import type { BoundSocket } from '../sockets/sockets.js';
import { RetiredCounters } from './retired.js';
import type { StatsSnapshot } from './stats.js';
import { Statsd } from './statsd.js';

/** What stats read of a worker, and the fields its reports update. */
export interface StatsWorker {
  readonly id: number;
  readonly index: number;
  readonly pid: number;
  readonly state: WorkerState;
  readonly generation: number;
  readonly spawnedAt: number;
  readonly lastHeartbeat: number;
  connections: number;
  counters: WorkerCounters | null;
  countersAt: number;
  requestsPerSec: number;
}

export interface MasterStatsOptions {
  readonly config: Config;
  readonly sockets: readonly BoundSocket[];
  /** min(--backlog, somaxconn): when a listen queue holds this many, it is full. */
  readonly maxBacklog: number;
  readonly logger: Logger;
  /** Workers not stopping: the statsd worker gauge. */
  readonly liveWorkers: () => number;
}

/** The master's own counters, all 0 (the snapshot's `counters`). */
export const zeroMasterCounts = () => ({
  spawned: 0,
  exited: 0,
  killed: 0,
  respawns: 0,
  forkFailures: 0,
  reloads: 0,
  listenQueueFull: 0,
});

/**
 * The master's counters, the workers' reports, the once-a-second listen-queue tick and statsd
 * (--stats, --statsd-host), and the snapshot --stats serves.
 */
export class MasterStats {
  readonly counts = zeroMasterCounts();
  /**
   * When the master started (the process, not this object: process_start_time_seconds). Not
   * `performance.timeOrigin`: the first use of `performance` loads perf_hooks (ten modules).
   */
  private readonly startedAt = Math.round(Date.now() - process.uptime() * 1000);
  private readonly retired = new RetiredCounters();
  private lastQueueWarning = 0;
  private readonly statsd: Statsd | null;
  private ticker: NodeJS.Timeout | null = null;

  constructor(private readonly opts: MasterStatsOptions) {
    this.statsd = opts.config.statsdHost
      ? new Statsd(opts.config.statsdHost, opts.config.statsdPrefix, opts.config.statsdSampleRate)
      : null;
  }

  start(): void {
    if (this.opts.config.stats || this.statsd) this.ticker = setInterval(() => this.tick(), 1000);
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.statsd?.close();
  }

  /** A worker's batched report: its rate against the previous one, and statsd. */
  workerReport(w: StatsWorker, current: WorkerCounters): void {
    const now = Date.now();
    const previous = w.counters;
    w.requestsPerSec = previous
      ? ((current.requests - previous.requests) * 1000) / Math.max(1, now - w.countersAt)
      : 0;
    w.counters = current;
    w.countersAt = now;
    w.connections = current.connections;
    this.statsd?.report(current, previous);
  }

  /** A worker is gone: its counters stay in its index's totals. */
  workerGone(w: StatsWorker): void {
    this.retired.add(w.index, w.counters);
  }

  /** Once a second with --stats or --statsd-host: the listen queues and the worker gauge. */
  private tick(): void {
    const { sockets, maxBacklog, logger } = this.opts;
    const queues = readListenQueues(sockets);
    queues.forEach((queue, i) => {
      if (queue === null || queue < maxBacklog) return;
      this.counts.listenQueueFull++;
      const now = Date.now();
      if (now - this.lastQueueWarning < 10_000) return;
      this.lastQueueWarning = now;
      logger.warn(
        { socket: sockets[i]!.display, queue, maxBacklog },
        `listen queue full on ${sockets[i]!.display}: ${queue}/${maxBacklog} connections waiting (raise -w, --backlog or somaxconn)`,
      );
    });
    this.statsd?.workers(this.opts.liveWorkers());
  }

  /** Everything --stats shows, read now. */
  snapshot(view: {
    targetWorkers: number;
    jobs: readonly JobView[];
    router: RouterStats | null;
    workers: readonly StatsWorker[];
  }): StatsSnapshot {
    const queues = readListenQueues(this.opts.sockets);
    return {
      version: VERSION,
      node: process.version,
      name: this.opts.config.name ?? '',
      pid: process.pid,
      rssBytes: process.memoryUsage.rss(),
      startedAt: this.startedAt,
      now: Date.now(),
      targetWorkers: view.targetWorkers,
      jobs: view.jobs,
      router: view.router,
      counters: { ...this.counts },
      retired: this.retired.view(),
      sockets: this.opts.sockets.map((s, i) => ({
        address: s.display,
        queue: queues[i] ?? null,
        maxBacklog: this.opts.maxBacklog,
      })),
      workers: [...view.workers]
        .sort((a, b) => a.id - b.id)
        .map((w) => ({
          id: w.id,
          index: w.index,
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
}
