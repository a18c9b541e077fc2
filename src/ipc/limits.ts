/**
 * Bounds on what a worker or the router may send the master. Every message from a child is
 * untrusted input (the app runs there, as --user): these pure checks run on it before any of it
 * is used, so a message can neither throw in the master nor make it hold or loop over more than
 * these sizes. docs/security.md ("IPC from workers and the router") lists them.
 */

/** App jobs a worker may declare (the whole app: every worker declares the same list). */
export const MAX_APP_JOBS = 100;
/** A job name: letters, digits and `_ . : @ / -` (plus spaces inside), at most this long. */
export const MAX_JOB_NAME = 100;
const JOB_NAME = /^[A-Za-z0-9_.:@/-](?:[A-Za-z0-9_.:@/ -]*[A-Za-z0-9_.:@/-])?$/;
/** A cron expression (six fields with lists and ranges fit easily). */
export const MAX_SCHEDULE = 200;
/** Free text a child reports (a boot error, a failed job's error, a retire detail). */
export const MAX_TEXT = 16 * 1024;
/** Sampled durations in one stats report (statsd): beyond this the worker keeps the first ones. */
export const MAX_TIMINGS = 10_000;
/**
 * Sampled durations all workers together report a second: their reports stay well inside the
 * master's IPC budget (line-limits.ts, 16 MiB a second for all children) at 1,024 workers.
 */
const MAX_TIMINGS_ALL_WORKERS = 400_000;
/** A worker's share of the timings a second, for `workers` workers: 100 to MAX_TIMINGS. */
export const timingsPerReport = (workers: number): number =>
  Math.max(100, Math.min(MAX_TIMINGS, Math.floor(MAX_TIMINGS_ALL_WORKERS / Math.max(1, workers))));
/** Upstreams in one router report (workers plus --route origins). */
export const MAX_UPSTREAMS = 4096;
/** An upstream's name (a worker's socket path or a --route origin). */
export const MAX_UPSTREAM_NAME = 1024;
/** Keys of a statsDelta: HTTP status codes, 100-999. */
const STATUS_KEY = /^[1-9][0-9]{2}$/;

/**
 * A counter or gauge: a number from 0 to 2^53 - 1. The bound keeps the master's sums of many
 * reports (totals, retired workers) finite: one report near Number.MAX_VALUE made them Infinity.
 */
export const isCount = (v: unknown): v is number =>
  typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** A non-negative integer (ids, sequence numbers, fd indexes). */
export const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export const isText = (v: unknown, max = MAX_TEXT): v is string =>
  typeof v === 'string' && v.length <= max;

export const isCountArray = (v: unknown, max: number): v is number[] =>
  Array.isArray(v) && v.length <= max && v.every(isCount);

/** An object of its own plain keys, none of them inherited or special. */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Responses per status code: status-code keys only (so at most 900), counts as values. */
export function isStatusDelta(v: unknown): v is Record<string, number> {
  if (!isPlainObject(v)) return false;
  let keys = 0;
  for (const key in v) {
    if (++keys > 900 || !STATUS_KEY.test(key) || !isCount(v[key])) return false;
  }
  return true;
}

/** Why a job name cannot be used, or null. */
export function jobNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name === '') return 'needs a name';
  if (name.length > MAX_JOB_NAME) return `name is longer than ${MAX_JOB_NAME} characters`;
  if (!JOB_NAME.test(name))
    return `name ${JSON.stringify(name)} may hold only letters, digits, spaces and _ . : @ / -`;
  return null;
}

/** Text a child sends, cut to what the master accepts. */
export const clip = (text: string, max = MAX_TEXT): string =>
  text.length > max ? `${text.slice(0, max - 3)}...` : text;

/** A value, shortened for a log line: never the whole of what a child sent. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return v === null ? 'null' : typeof v;
}
