import { addHistogram, type DurationHistogram, emptyHistogram } from '../../ipc/histogram.js';
import type { WorkerCounters } from '../../ipc/protocol.js';

/**
 * The counters that must never go down in /metrics, whatever happens to the processes: each is
 * summed over a worker index's retired and live workers (here, in the stats JSON's `retired`,
 * and in prometheus.ts). `h2Requests` (--http2 in direct mode) is among `requests`.
 */
export const NEVER_DOWN = [
  'requests',
  'bytesOut',
  'status5xx',
  'proxyHeaderRefused',
  'h2Requests',
] as const;
export type Counts = Record<(typeof NEVER_DOWN)[number], number>;

export interface CounterTotals extends Counts {
  readonly durations: DurationHistogram;
}

/** The never-down counters of `from` (a worker's report may leave out `h2Requests`). */
export function countsOf(from: Partial<Counts>): Counts {
  const counts = {} as Counts;
  for (const k of NEVER_DOWN) counts[k] = from[k] ?? 0;
  return counts;
}

/** `into` plus `from`, counter by counter. */
export function addCounts(into: Counts, from: Partial<Counts>): Counts {
  const sum = {} as Counts;
  for (const k of NEVER_DOWN) sum[k] = into[k] + (from[k] ?? 0);
  return sum;
}

export function emptyTotals(): CounterTotals {
  return { ...countsOf({}), durations: emptyHistogram() };
}

export function addTotals(into: CounterTotals, from: CounterTotals | WorkerCounters): void {
  Object.assign(into, addCounts(into, from));
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
