import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { WorkerCounters } from '../ipc/protocol.js';

const STARTED = Symbol('tsgun.started');
const BYTES_BEFORE = Symbol('tsgun.bytesBefore');
const COUNTERS = Symbol('tsgun.counters');
const SOCKET = Symbol('tsgun.socket');

interface Tracked extends ServerResponse {
  [STARTED]: number;
  [BYTES_BEFORE]: number;
  [COUNTERS]: Counters;
  /** The response leaves its socket when it finishes; the byte count needs it after that. */
  [SOCKET]: IncomingMessage['socket'];
}

function onClose(this: Tracked): void {
  this[COUNTERS].finish(this);
}

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
    // Start time and byte count ride on the response, and one shared listener reads them back:
    // no closure is allocated per request.
    const tracked = res as Tracked;
    tracked[STARTED] = performance.now();
    tracked[SOCKET] = req.socket;
    tracked[BYTES_BEFORE] = req.socket.bytesWritten;
    tracked[COUNTERS] = this;
    res.on('close', onClose); // 'close' fires once; on() avoids once()'s per-call wrapper
  }

  /** Called by onClose with the response that just closed. */
  finish(res: Tracked): void {
    this.inflight--;
    if (!res.writableFinished) return;
    this.finished++;
    this.responseMsTotal += performance.now() - res[STARTED];
    this.bytesOut += res[SOCKET].bytesWritten - res[BYTES_BEFORE];
    const status = res.statusCode;
    if (status >= 500) this.status5xx++;
    this.statusDelta[status] = (this.statusDelta[status] ?? 0) + 1;
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
