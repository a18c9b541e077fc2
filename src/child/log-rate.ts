/**
 * A child's warnings about what clients do (shed requests, bad PROXY headers) come at most once a
 * second, each with the count since the last one: a flood costs a line a second, not a line each.
 */
export const LOG_INTERVAL_MS = 1000;

/** Whether a line may be written now, the last one having been written at `lastLogMs`. Pure. */
export function shouldLog(nowMs: number, lastLogMs: number | null): boolean {
  return lastLogMs === null || nowMs - lastLogMs >= LOG_INTERVAL_MS;
}
