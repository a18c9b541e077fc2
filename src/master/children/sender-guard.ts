/**
 * What the master does with each message of one child (a worker or the router), which it cannot
 * trust: the app runs there. A child sends a few messages a second (heartbeats at most every
 * 50 ms, stats once a second, one job-done per job run); past MAX_MESSAGES_PER_SECOND in one
 * second the rest of that second is dropped and the child is replaced. A bad message (not of the
 * protocol, or one its handler failed on) is dropped; the log gets at most one line a second per
 * child, saying how many were dropped since the previous one. After MAX_BAD_MESSAGES bad ones
 * the child is replaced. Node parses every message before any of this (a deeply nested one costs
 * the master real time), so a child that goes on after it was told to go (twice as many bad
 * messages, or a flood in a later second) is cut off: its channel is closed. Pure: the caller
 * passes the clock, logs the lines, replaces and cuts off.
 */

/** Far above what the protocol needs (about 20 heartbeats, 1 stats report, MAX_APP_JOBS job-done). */
export const MAX_MESSAGES_PER_SECOND = 1000;
/** A child of tsgun's own code never sends a malformed message: a few are a bug or an attack. */
export const MAX_BAD_MESSAGES = 10;
const LOG_EVERY_MS = 1000;
/** The reason `reject` takes for a message over the rate. */
export const FLOOD = 'flood';
const FLOOD_TEXT = `more than ${MAX_MESSAGES_PER_SECOND} messages in a second`;

export interface Rejection {
  /** What to log now (null: one was logged less than a second ago; this one is counted). */
  readonly log: { readonly reason: string; readonly dropped: number } | null;
  /** Why to replace the child (once: null afterwards). */
  readonly replace: string | null;
  /** Why to close its channel now (once, after `replace`: null afterwards). */
  readonly cut: string | null;
}

export class SenderGuard {
  private windowStart = Number.NEGATIVE_INFINITY;
  private inWindow = 0;
  private bad = 0;
  /** Dropped since the last log line. */
  private unlogged = 0;
  private lastLog = Number.NEGATIVE_INFINITY;
  /** When the child was told to go (replace), and whether it was cut off since. */
  private replacedAt: number | null = null;
  private cutOff = false;

  /** A message arrived: false when it is over the rate (call `reject` with FLOOD). */
  arrive(now: number): boolean {
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.inWindow = 0;
    }
    return ++this.inWindow <= MAX_MESSAGES_PER_SECOND;
  }

  /**
   * A message is dropped: over the rate ('flood'), bad (`reason`), or its handler threw
   * (`blame` false: the master's fault, logged but never held against the child).
   */
  reject(now: number, reason: string, blame = true): Rejection {
    this.unlogged++;
    let replace: string | null = null;
    let cut: string | null = null;
    if (blame) {
      const flood = reason === FLOOD;
      if (!flood) this.bad++;
      if (this.replacedAt === null) {
        if (flood) replace = FLOOD_TEXT;
        else if (this.bad >= MAX_BAD_MESSAGES) replace = `${this.bad} bad messages`;
        if (replace) this.replacedAt = now;
      } else if (!this.cutOff) {
        if (flood && now - this.replacedAt >= 1000) cut = `still ${FLOOD_TEXT}`;
        else if (this.bad >= 2 * MAX_BAD_MESSAGES) cut = `${this.bad} bad messages`;
        if (cut) this.cutOff = true;
      }
    }
    if (now - this.lastLog < LOG_EVERY_MS && !replace && !cut) return { log: null, replace, cut };
    const log = { reason: reason === FLOOD ? FLOOD_TEXT : reason, dropped: this.unlogged };
    this.lastLog = now;
    this.unlogged = 0;
    return { log, replace, cut };
  }
}
