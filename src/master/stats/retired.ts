import { addHistogram, type DurationHistogram, emptyHistogram } from '../../ipc/histogram.js';
import type { WorkerCounters } from '../../ipc/protocol.js';

/** The counters that must never go down in /metrics, whatever happens to the processes. */
export interface CounterTotals {
  requests: number;
  bytesOut: number;
  status5xx: number;
  proxyHeaderRefused: number;
  /** --http2 in direct mode: HTTP/2 requests (streams) among `requests`. */
  h2Requests: number;
  readonly durations: DurationHistogram;
}

export function emptyTotals(): CounterTotals {
  return {
    requests: 0,
    bytesOut: 0,
    status5xx: 0,
    proxyHeaderRefused: 0,
    h2Requests: 0,
    durations: emptyHistogram(),
  };
}

export function addTotals(into: CounterTotals, from: CounterTotals | WorkerCounters): void {
  into.requests += from.requests;
  into.bytesOut += from.bytesOut;
  into.status5xx += from.status5xx;
  into.proxyHeaderRefused += from.proxyHeaderRefused;
  into.h2Requests += from.h2Requests ?? 0;
  addHistogram(into.durations, from.durations);
}

/**
 * What workers that are gone counted, per worker index (TSGUN_WORKER_INDEX). A worker's counters
 * start at 0 in every new process, so when one exits (replaced by a HUP, --max-requests, a crash,
 * a SIGKILL) the master adds its last report here, and the series of that index is this plus
 * the live workers of the index: it never goes down, and keeps its labels across reloads. What a
 * worker counted after its last report (under a second of traffic) is lost, never counted twice.
 */
export class RetiredCounters {
  private readonly byIndex = new Map<number, CounterTotals>();

  add(index: number, last: WorkerCounters | null): void {
    if (!last) return;
    let totals = this.byIndex.get(index);
    if (!totals) {
      totals = emptyTotals();
      this.byIndex.set(index, totals);
    }
    addTotals(totals, last);
  }

  /** Copies, in index order (the snapshot must not change under a renderer). */
  view(): { index: number; totals: CounterTotals }[] {
    return [...this.byIndex]
      .sort(([a], [b]) => a - b)
      .map(([index, t]) => {
        const totals = emptyTotals();
        addTotals(totals, t);
        return { index, totals };
      });
  }
}
