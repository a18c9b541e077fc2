import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_TIMINGS, timingsPerReport } from '../../src/ipc/limits.js';
import {
  ByteBudget,
  LineLimits,
  MAX_BYTES_PER_SECOND,
  MAX_LINE_BYTES,
  MAX_LINE_DEPTH,
  MAX_LINE_TOKENS,
} from '../../src/ipc/line-limits.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

/** Feed `text` in chunks of `size` bytes: the first problem, or null. */
function feed(text: string | Buffer, size = 65536): string | null {
  const all = typeof text === 'string' ? bytes(text) : text;
  const limits = new LineLimits();
  for (let at = 0; at < all.length; at += size) {
    const problem = limits.feed(all.subarray(at, at + size));
    if (problem) return problem;
  }
  return null;
}

const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe("IPC line limits (before Node's reader parses a line)", () => {
  it("pass tsgun's largest messages: a router report of 4,096 upstreams, 10,000 timings", () => {
    const upstreams = Array.from({ length: 4096 }, (_, i) => ({
      name: `/run/tsgun/${'w'.repeat(1000)}${i}`,
      requests: Number.MAX_SAFE_INTEGER,
      errors: 1,
      retries: 2,
      inflight: 3,
    }));
    const report = `${JSON.stringify({ tsgun: 1, type: 'router-stats', upstreams, pending: 0 })}\n`;
    assert.equal(feed(report), null);
    const timings = Array.from({ length: 10_000 }, () => 12345.678);
    assert.equal(feed(`${JSON.stringify({ tsgun: 1, type: 'stats', timings })}\n`), null);
  });

  it('count each line afresh after its newline, across chunk boundaries', () => {
    const line = `${JSON.stringify({ a: Array.from({ length: 150_000 }, () => 1) })}\n`;
    // Each line holds 150,000 values: three in a row, fed in odd-sized chunks, all pass.
    assert.equal(feed(line.repeat(3), 977), null);
    assert.equal(feed(`${nested(MAX_LINE_DEPTH)}\n`.repeat(3), 5), null);
  });

  it(`refuse more than ${MAX_LINE_DEPTH} open arrays and objects, counted outside strings`, () => {
    assert.match(feed(nested(MAX_LINE_DEPTH + 1)) ?? '', /nests more than 64/);
    assert.match(feed(`{"a":${'{"b":'.repeat(MAX_LINE_DEPTH)}`) ?? '', /nests more than 64/);
    // Brackets in strings, and quotes escaped in them, are text.
    assert.equal(feed(`{"t":"${'['.repeat(1000)}\\"${'{'.repeat(1000)}"}\n`), null);
    assert.match(feed(`{"t":"\\\\"${'['.repeat(100)}`) ?? '', /nests/, 'an escaped backslash ends');
  });

  it(`refuse more than ${MAX_LINE_TOKENS.toLocaleString('en-US')} values in a line`, () => {
    assert.match(feed(`[${'1,'.repeat(MAX_LINE_TOKENS)}1]\n`) ?? '', /more than 200,000 values/);
    assert.match(feed(`{${'"k":1,'.repeat(MAX_LINE_TOKENS / 2)}"k":1}`) ?? '', /values/);
    // Commas and colons in strings are text.
    assert.equal(feed(`["${',:'.repeat(MAX_LINE_TOKENS)}"]\n`), null);
  });

  it(`refuse a line longer than ${MAX_LINE_BYTES.toLocaleString('en-US')} bytes, ended or not`, () => {
    const big = JSON.stringify({ pad: 'x'.repeat(MAX_LINE_BYTES) });
    assert.match(feed(big) ?? '', /longer than 8,388,608 bytes/);
    assert.match(feed(`${big}\n`) ?? '', /longer than/, 'a whole line in one chunk');
    assert.match(feed(`${big}\n`, 1 << 20) ?? '', /longer than/);
    const fits = JSON.stringify({ pad: 'x'.repeat(MAX_LINE_BYTES - 20) });
    assert.equal(feed(`${fits}\n${fits}\n`), null);
  });

  it('a newline inside a string ends the line, as Node splits it', () => {
    // Node splits on every newline byte: the open string of the first line does not carry over.
    assert.equal(feed(`{"t":"[[[\n${nested(MAX_LINE_DEPTH)}\n`), null);
  });

  it('refuse more than 16 MiB a second, lines within every bound or not, all channels together', () => {
    const line = bytes(`${JSON.stringify({ pad: 'x'.repeat(1024 * 1024 - 20) })}\n`);
    const fed = (limits: LineLimits, n: number, at: (i: number) => number) => {
      for (let i = 0; i < n; i++) {
        const problem = limits.feed(line, at(i));
        if (problem) return `${i}: ${problem}`;
      }
      return null;
    };
    assert.ok(MAX_BYTES_PER_SECOND / line.length > 15);
    assert.match(
      fed(new LineLimits(), 17, () => 5000) ?? '',
      /^16: more than 16,777,216 bytes .* a second/,
    );
    // Refilled at 16 MiB a second: 15 MiB now, 15 more a second later, then 1 MiB every 1/16 s.
    assert.equal(
      fed(new LineLimits(), 30, (i) => 5000 + (i < 15 ? 0 : 1000)),
      null,
    );
    assert.equal(
      fed(new LineLimits(), 100, (i) => 5000 + i * 62.5),
      null,
    );
    assert.match(fed(new LineLimits(), 100, (i) => 5000 + i * 50) ?? '', /more than 16,777,216/);
    // A clock that steps back refills nothing, and takes nothing it should not.
    assert.equal(
      fed(new LineLimits(), 15, (i) => 5000 - i * 1000),
      null,
    );
    // One budget for all channels: two children of 9 MiB each at once pass it.
    const shared = new ByteBudget(MAX_BYTES_PER_SECOND);
    assert.equal(
      fed(new LineLimits(shared), 9, () => 0),
      null,
    );
    assert.match(fed(new LineLimits(shared), 9, () => 0) ?? '', /^7: more than/);
  });

  it("the workers' statsd timings share the budget: 1,024 workers' reports fit in it", () => {
    assert.equal(timingsPerReport(1), MAX_TIMINGS);
    assert.equal(timingsPerReport(40), MAX_TIMINGS);
    assert.equal(timingsPerReport(64), 6250);
    assert.equal(timingsPerReport(1024), 390);
    // A report with every field at its largest value, timings of the slowest kind (6 digits and 3
    // decimals), 20 status codes: one a second from each of 1,024 workers, and the router's.
    const report = (timings: number) =>
      `${JSON.stringify({
        tsgun: 1,
        type: 'stats',
        requests: Number.MAX_SAFE_INTEGER,
        inflight: 1000,
        connections: 1000,
        bytesOut: Number.MAX_SAFE_INTEGER,
        responseMsTotal: Number.MAX_SAFE_INTEGER,
        finished: Number.MAX_SAFE_INTEGER,
        status5xx: Number.MAX_SAFE_INTEGER,
        statusDelta: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [200 + i, 1e9])),
        rssBytes: Number.MAX_SAFE_INTEGER,
        heapUsedBytes: Number.MAX_SAFE_INTEGER,
        loopLagP99Ms: 1e6,
        durations: { counts: Array(60).fill(Number.MAX_SAFE_INTEGER), sums: Array(5).fill(1e12) },
        timings: Array(timings).fill(999999.999),
      })}\n`;
    const second = 1024 * Buffer.byteLength(report(timingsPerReport(1024))) + 4.7e6;
    assert.ok(second < MAX_BYTES_PER_SECOND * 0.75, `${second} bytes a second`);
  });

  it('once refused, every later chunk is refused', () => {
    const limits = new LineLimits();
    assert.ok(limits.feed(bytes(nested(MAX_LINE_DEPTH + 1))));
    assert.ok(limits.feed(bytes('\n{"tsgun":1,"type":"heartbeat"}\n')));
  });
});
