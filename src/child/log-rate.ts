/**
 * A child's warnings about what clients do (shed requests, bad PROXY headers) come at most once a
 * second, each with the count since the last one: a flood costs a line a second, not a line each.
 */
export const LOG_INTERVAL_MS = 1000;

/** Whether a line may be written now, the last one having been written at `lastLogMs`. Pure. */
export function shouldLog(nowMs: number, lastLogMs: number | null): boolean {
  return lastLogMs === null || nowMs - lastLogMs >= LOG_INTERVAL_MS;
}

/**
 * `write` at most once a second, given how many calls there were since the last line (this one
 * included) and this call's arguments; the calls in between are only counted.
 */
export function onceASecond<A extends unknown[]>(
  write: (sinceLastLine: number, ...args: A) => void,
  now: () => number = Date.now,
): (...args: A) => void {
  let unsaid = 0;
  let lastAt: number | null = null;
  return (...args) => {
    unsaid++;
    const t = now();
    if (!shouldLog(t, lastAt)) return;
    lastAt = t;
    write(unsaid, ...args);
    unsaid = 0;
  };
}
