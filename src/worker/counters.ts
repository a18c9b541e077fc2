import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { WorkerCounters } from '../ipc/protocol.js';

/**
 * Per-worker request counters for --stats and --statsd-host. The request path only bumps numbers;
 * the report (memory, loop lag) is built once a second and sent over IPC in one message.
 */
export class Counters {
  requests = 0;
  private inflight = 0;
  private bytesOut = 0;
  private responseMsTotal = 0;
  private finished = 0;
  private status5xx = 0;
  private statusDelta: Record<string, number> = {};
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.lag.enable();
  }

  track(req: IncomingMessage, res: ServerResponse): void {
    this.inflight++;
    const started = performance.now();
    const socket = req.socket;
    const bytesBefore = socket.bytesWritten;
    res.once('close', () => {
      this.inflight--;
      if (!res.writableFinished) return;
      this.finished++;
      this.responseMsTotal += performance.now() - started;
      this.bytesOut += socket.bytesWritten - bytesBefore;
      const status = res.statusCode;
      if (status >= 500) this.status5xx++;
      this.statusDelta[status] = (this.statusDelta[status] ?? 0) + 1;
    });
  }

  report(connections: number): WorkerCounters {
    const memory = process.memoryUsage();
    // The histogram counts the sampling timer itself (resolution 10 ms): the lag is what is beyond it.
    const lagP99 = Math.max(0, this.lag.percentile(99) / 1e6 - 10);
    this.lag.reset();
    const statusDelta = this.statusDelta;
    this.statusDelta = {};
    return {
      requests: this.requests,
      inflight: this.inflight,
      connections,
      bytesOut: this.bytesOut,
      responseMsTotal: this.responseMsTotal,
      finished: this.finished,
      status5xx: this.status5xx,
      statusDelta,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loopLagP99Ms: Number.isFinite(lagP99) ? lagP99 : 0,
    };
  }
}
