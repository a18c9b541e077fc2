/**
 * Bounds on one line of a child's IPC channel, checked on the bytes before Node's reader parses
 * them (master/children/channel-guard.ts). Node parses each line whatever its cost, in the
 * master's event loop: without these, one line of a worker (the app runs there) could hold the
 * master for a second or more (a million object keys), grow a string until V8 refuses it (bytes
 * without a newline) or nest a million arrays. The largest line of tsgun's protocol is a router
 * report of MAX_UPSTREAMS upstreams, well inside all of them. docs/security.md lists them.
 */

/** Bytes between two newlines. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Values of a line, counted by the separators and openers outside strings (`, : [ {`). */
export const MAX_LINE_TOKENS = 200_000;
/** Arrays and objects open at once. */
export const MAX_LINE_DEPTH = 64;
/**
 * Bytes all children together may send in a second: lines inside the bounds above can still cost
 * Node's parser tens of milliseconds each (long runs of numbers the most), and the app runs in
 * every worker, so the budget is the master's, shared, not one per child. tsgun's own children
 * stay inside it: the workers' statsd timings are shared out (limits.ts timingsPerReport), and a
 * router report of MAX_UPSTREAMS upstreams comes once a second.
 */
export const MAX_BYTES_PER_SECOND = 16 * 1024 * 1024;

/**
 * A token bucket of bytes: refilled at `rate` a second, holding at most one second's worth, on a
 * monotonic clock in milliseconds (the wall clock may step back; see `monotonicMs`).
 */
export class ByteBudget {
  private tokens: number;
  private last = Number.NaN;

  constructor(readonly rate: number) {
    this.tokens = rate;
  }

  /** Take `n` bytes at `now`; false (and nothing taken) when the bucket holds fewer. */
  take(n: number, now: number): boolean {
    if (Number.isNaN(this.last)) this.last = now;
    else if (now > this.last) {
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }
}

/**
 * Milliseconds on a monotonic clock: process.uptime() (libuv's hrtime), not performance.now(),
 * whose global loads perf_hooks into the master (test/integration/master-builtins.test.ts).
 */
const monotonicMs = (): number => process.uptime() * 1000;

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Reads a channel's bytes as Node's reader will split them: a line ends at every newline byte,
 * inside a string or not (JSON text never holds a raw newline; Node splits there regardless).
 * `feed` returns the first bound a line passes, then the same answer for every later chunk: a
 * channel is never read past a refused line.
 */
export class LineLimits {
  private bytes = 0;
  private tokens = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private refused: string | null = null;

  /** `budget`: the bytes a second this channel draws on (the master's, shared by its children). */
  constructor(private readonly budget = new ByteBudget(MAX_BYTES_PER_SECOND)) {}

  feed(chunk: Uint8Array, now = monotonicMs()): string | null {
    if (this.refused) return this.refused;
    if (!this.budget.take(chunk.length, now))
      return this.refuse(
        `more than ${count(this.budget.rate)} bytes of messages in a second from the workers and the router together`,
      );
    let { bytes, tokens, depth, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      if (c === NEWLINE) {
        if (bytes > MAX_LINE_BYTES) break;
        bytes = tokens = depth = 0;
        inString = escaped = false;
        continue;
      }
      bytes++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        continue;
      }
      if (c === QUOTE) inString = true;
      else if (c === COMMA || c === COLON) tokens++;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        tokens++;
        if (++depth > MAX_LINE_DEPTH)
          return this.refuse(`a message nests more than ${MAX_LINE_DEPTH} arrays and objects`);
      } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && depth > 0) depth--;
      if (tokens > MAX_LINE_TOKENS)
        return this.refuse(`a message holds more than ${count(MAX_LINE_TOKENS)} values`);
    }
    if (bytes > MAX_LINE_BYTES)
      return this.refuse(`a message is longer than ${count(MAX_LINE_BYTES)} bytes`);
    Object.assign(this, { bytes, tokens, depth, inString, escaped });
    return null;
  }

  private refuse(reason: string): string {
    this.refused = reason;
    return reason;
  }
}
