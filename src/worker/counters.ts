import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { emptyHistogram, observe } from '../ipc/histogram.js';
import { MAX_TIMINGS } from '../ipc/limits.js';
import type { WorkerCounters } from '../ipc/protocol.js';
import type { SocketList } from '../platform/accepted-sockets.js';

/** What a worker's report carries that other parts of the worker count. */
export type KeptElsewhere = Pick<
  WorkerCounters,
  'logLinesDropped' | 'proxyHeaderRefused' | 'h2Requests'
>;

/**
 * Per-worker request counters for --stats and --statsd-host. The request path only bumps numbers
 * (and, for statsd, keeps each sampled duration); the report (bytes, memory, loop lag) is built once a second and sent over IPC in one message.
 *
 * Nothing is stored on Node's response objects: adding properties to them changes their hidden
 * class, and Node's own http code that handles every response then meets more than one shape.
 * Per request there is one small closure (the start time) and one 'close' listener; bytes are
 * counted per connection, at report time, not per response.
 */
export class Counters {
  requests = 0;
  private inflight = 0;
  /** Bytes written by connections that have closed; open ones are added at report time. */
  private closedBytes = 0;
  private responseMsTotal = 0;
  private finished = 0;
  private status5xx = 0;
  private statusDelta: Record<string, number> = {};
  private readonly durations = emptyHistogram();
  /** --statsd-host: durations (ms) of the sampled responses since the last report. */
  private timings: number[] = [];
  private readonly lag = monitorEventLoopDelay({ resolution: 10 });

  /**
   * `statsdSampleRate`: the share of responses whose duration goes to statsd (null: statsd is
   * off, no timings kept); `maxTimings`: at most this many a report (timingsPerReport).
   */
  constructor(
    private readonly statsdSampleRate: number | null = null,
    private readonly maxTimings = MAX_TIMINGS,
  ) {
    this.lag.enable();
  }

  track(res: ServerResponse): void {
    this.inflight++;
    const started = performance.now();
    res.on('close', () => this.finish(res, started));
  }

  private finish(res: ServerResponse, started: number): void {
    this.inflight--;
    if (!res.writableFinished) return;
    this.finished++;
    const ms = performance.now() - started;
    this.responseMsTotal += ms;
    const status = res.statusCode;
    if (status >= 500) this.status5xx++;
    this.statusDelta[status] = (this.statusDelta[status] ?? 0) + 1;
    observe(this.durations, status, ms / 1000);
    const rate = this.statsdSampleRate;
    // A report holds this worker's share of the timings (timingsPerReport): a busier second sends
    // its first ones.
    if (
      rate !== null &&
      this.timings.length < this.maxTimings &&
      (rate >= 1 || Math.random() < rate)
    )
      this.timings.push(Math.round(ms * 1000) / 1000);
  }

  /** A connection closed: keep what it wrote. */
  socketClosed(socket: Socket): void {
    this.closedBytes += socket.bytesWritten ?? 0;
  }

  /**
   * `kept`: the counts kept elsewhere (the logs' dropped lines, the PROXY protocol step's refusals,
   * direct mode's h2 front's requests), reported as they are.
   */
  report(open: SocketList, kept: KeptElsewhere): WorkerCounters {
    const memory = process.memoryUsage();
    // The histogram counts the sampling timer itself (resolution 10 ms): the lag is what is beyond it.
    const lagP99 = Math.max(0, this.lag.percentile(99) / 1e6 - 10);
    this.lag.reset();
    const statusDelta = this.statusDelta;
    this.statusDelta = {};
    const timings = this.timings;
    this.timings = [];
    let bytesOut = this.closedBytes;
    for (const socket of open.withClosing()) bytesOut += socket.bytesWritten ?? 0;
    return {
      requests: this.requests,
      inflight: this.inflight,
      connections: open.size,
      bytesOut,
      responseMsTotal: this.responseMsTotal,
      finished: this.finished,
      status5xx: this.status5xx,
      statusDelta,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      loopLagP99Ms: Number.isFinite(lagP99) ? lagP99 : 0,
      ...kept,
      durations: this.durations,
      timings,
    };
  }
}
