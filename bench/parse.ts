/** Parsers for the load generators' text output, and the statistics the table shows. Pure. */

export interface WrkResult {
  readonly requestsPerSec: number;
  readonly requests: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** Failed requests: connect, write and timeout errors plus non-2xx/3xx responses. */
  readonly errors: number;
  /**
   * wrk's "read" errors, kept apart: a server that closes after a complete response without
   * sending `Connection: close` (uWSGI) shows one per request although every response arrived.
   */
  readonly readErrors: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

export function parseWrk(text: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${text}`);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return m ? toMs(m[1]!, m[2]!) : null;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const [connect, read, write, timeout] = socket ? socket.slice(1).map(Number) : [0, 0, 0, 0];
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return {
    requestsPerSec: Number(rps[1]),
    requests,
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    errors: connect! + write! + timeout! + non2xx,
    readErrors: read!,
  };
}

/**
 * h2load's summary (HTTP/2 rows): its throughput, and as errors the requests that failed,
 * errored or timed out plus non-2xx/3xx answers. It prints no percentiles: p50/p99 are null.
 */
export function parseH2load(text: string): WrkResult {
  const rps = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(text);
  const counts =
    /requests: (\d+) total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      text,
    );
  if (!rps || !counts) throw new Error(`h2load output not understood:\n${text}`);
  const codes = /status codes: \d+ 2xx, \d+ 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const bad = codes ? Number(codes[1]) + Number(codes[2]) : 0;
  return {
    requestsPerSec: Number(rps[1]),
    requests: Number(counts[2]),
    p50Ms: null,
    p99Ms: null,
    errors: Number(counts[3]) + Number(counts[4]) + Number(counts[5]) + bad,
    readErrors: 0,
  };
}

export interface HttperfResult {
  readonly requestsPerSec: number;
  readonly responseMs: number;
  readonly errors: number;
}

export function parseHttperf(text: string): HttperfResult {
  const rate = /Request rate: ([\d.]+) req\/s/.exec(text);
  const reply = /Reply time \[ms\]: response ([\d.]+)/.exec(text);
  const errors = /Errors: total (\d+)/.exec(text);
  if (!rate || !errors) throw new Error(`httperf output not understood:\n${text}`);
  return {
    requestsPerSec: Number(rate[1]),
    responseMs: reply ? Number(reply[1]) : Number.NaN,
    errors: Number(errors[1]),
  };
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly stddev: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0)
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, stddev: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const stddev = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { median, min: sorted[0]!, max: sorted.at(-1)!, stddev };
}
