import { isCount } from './limits.js';

/**
 * The request-duration histogram, shared by workers (who count) and the master (who adds up and
 * renders). A worker keeps one flat array of bucket counts per status class, bumped once per
 * response: no allocation on the request path, and the whole thing ships in the once-a-second
 * stats message as plain numbers.
 */

/** Upper bounds in seconds (Prometheus' default buckets); a last, implicit bucket is +Inf. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Slots per class: one per bound plus +Inf. */
export const SLOTS = DURATION_BUCKETS.length + 1;

/** Status classes, in array order. A status outside 100-599 counts as 5xx (a broken answer). */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Index into STATUS_CLASSES. */
export function statusClassIndex(status: number): number {
  const c = Math.floor(status / 100) - 1;
  return c >= 0 && c < STATUS_CLASSES.length ? c : STATUS_CLASSES.length - 1;
}

/** Index of the first bucket whose bound holds `seconds` (SLOTS - 1 for +Inf). */
export function bucketIndex(seconds: number): number {
  let i = 0;
  while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++;
  return i;
}

/**
 * Non-cumulative counts (SLOTS per class) and the sum of durations per class, in whole
 * microseconds: integers add up exactly in any order, so the master's total (retired workers plus
 * live ones) never goes down between scrapes, as a float sum can by one ulp.
 */
export interface DurationHistogram {
  readonly counts: number[];
  readonly sums: number[];
}

export function emptyHistogram(): DurationHistogram {
  return {
    counts: new Array<number>(STATUS_CLASSES.length * SLOTS).fill(0),
    sums: new Array<number>(STATUS_CLASSES.length).fill(0),
  };
}

/** The request path: one response of `status` that took `seconds`. */
export function observe(h: DurationHistogram, status: number, seconds: number): void {
  const c = statusClassIndex(status);
  h.counts[c * SLOTS + bucketIndex(seconds)]!++;
  h.sums[c]! += Math.round(seconds * 1e6);
}

/** `into += from`, slot by slot (the master's totals: retired workers plus live ones). */
export function addHistogram(into: DurationHistogram, from: DurationHistogram): void {
  for (let i = 0; i < into.counts.length; i++) into.counts[i]! += from.counts[i] ?? 0;
  for (let i = 0; i < into.sums.length; i++) into.sums[i]! += from.sums[i] ?? 0;
}

/** A well-formed histogram as received over IPC (the right lengths, finite numbers). */
export function isHistogram(v: unknown): v is DurationHistogram {
  const h = v as DurationHistogram | null;
  const numbers = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every(isCount);
  return (
    typeof h === 'object' &&
    h !== null &&
    numbers(h.counts, STATUS_CLASSES.length * SLOTS) &&
    numbers(h.sums, STATUS_CLASSES.length)
  );
}

/** One class's Prometheus series: cumulative bucket counts ('le' → count), sum (seconds), count. */
export function classSeries(
  h: DurationHistogram,
  classIndex: number,
): { buckets: [string, number][]; sum: number; count: number } {
  const buckets: [string, number][] = [];
  let running = 0;
  for (let i = 0; i < SLOTS; i++) {
    running += h.counts[classIndex * SLOTS + i]!;
    buckets.push([i < DURATION_BUCKETS.length ? String(DURATION_BUCKETS[i]) : '+Inf', running]);
  }
  return { buckets, sum: h.sums[classIndex]! / 1e6, count: running };
}
