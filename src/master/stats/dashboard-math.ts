/**
 * The dashboard's pure helpers. The page (dashboard-page.ts) embeds their source text, so each
 * one is self-contained: it names no other function or import of this module.
 */

/**
 * The q-quantile (0..1), in seconds, of the requests counted by a window of a cumulative
 * histogram (`cumulative` has one count per bound plus +Inf, as /'s requestDuration). Linear
 * within a bucket, like Prometheus' histogram_quantile; the last bound when the rank falls in
 * +Inf; null with no requests.
 */
export function quantileSeconds(
  bounds: readonly number[],
  cumulative: readonly number[],
  q: number,
): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (!(total > 0)) return null;
  const rank = q * total;
  for (let i = 0; i < cumulative.length; i++) {
    const upTo = cumulative[i] ?? 0;
    if (upTo < rank) continue;
    if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
    const lower = i > 0 ? (bounds[i - 1] ?? 0) : 0;
    const before = i > 0 ? (cumulative[i - 1] ?? 0) : 0;
    const inBucket = upTo - before;
    const upper = bounds[i] ?? lower;
    return inBucket > 0 ? lower + ((upper - lower) * (rank - before)) / inBucket : upper;
  }
  return bounds[bounds.length - 1] ?? null;
}

/**
 * The bucket counts between two readings of the request-duration histogram, every status class
 * added; null when a count went down (another master answers: a USR2, a restart).
 */
export function durationWindow(
  before: Record<string, { cumulative: readonly number[] }> | null,
  after: Record<string, { cumulative: readonly number[] }>,
): number[] | null {
  if (!before) return null;
  const out: number[] = [];
  for (const name of Object.keys(after)) {
    const a = after[name]?.cumulative ?? [];
    const b = before[name]?.cumulative ?? [];
    for (let i = 0; i < a.length; i++) {
      const d = (a[i] ?? 0) - (b[i] ?? 0);
      if (d < 0) return null;
      out[i] = (out[i] ?? 0) + d;
    }
  }
  return out;
}

/** Bytes as a person reads them: "512 B", "3.4 KiB", "87.2 MiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** A duration in seconds: "45 s", "12 min 5 s", "3 h 4 min", "2 d 1 h". */
export function formatAge(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Milliseconds: "0.42 ms", "12.5 ms", "1.20 s". */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/** A round upper bound for a chart's y axis (1, 2 or 5 times a power of ten) at or above max. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}
