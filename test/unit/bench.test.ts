import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart } from '../../bench/chart.js';
import { parseH2load, parseHttperf, parseWrk, summarize } from '../../bench/parse.js';

const WRK = `Running 1s test @ http://127.0.0.1:8000/v1/channels/bench/events
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.34ms    5.00ms  41.37ms   80.00%
  Latency Distribution
     50%   11.50ms
     75%   13.00ms
     90%   20.00ms
     99%  850.00us
  4416 requests in 1.00s, 4.63MB read
  Socket errors: connect 1, read 7, write 2, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   4416.50
Transfer/sec:      4.63MB
`;

const HTTPERF = `Total: connections 300 requests 300 replies 300 test-duration 0.997 s
Request rate: 300.9 req/s (3.3 ms/req)
Reply time [ms]: response 1.2 transfer 0.0
Errors: total 2 client-timo 0 socket-timo 0 connrefused 2 connreset 0
`;

describe('bench parsers', () => {
  it('reads wrk: rate, percentiles in any unit, failures apart from read errors', () => {
    assert.deepEqual(parseWrk(WRK), {
      requestsPerSec: 4416.5,
      requests: 4416,
      p50Ms: 11.5,
      p99Ms: 0.85,
      errors: 10,
      readErrors: 7,
    });
    assert.throws(() => parseWrk('garbage'), /no Requests\/sec/);
  });
  it('reads httperf', () => {
    assert.deepEqual(parseHttperf(HTTPERF), { requestsPerSec: 300.9, responseMs: 1.2, errors: 2 });
  });
  it('summarizes runs: median, min, max, population standard deviation', () => {
    assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, stddev: Math.sqrt(2 / 3) });
    assert.equal(summarize([1, 2, 3, 4]).median, 2.5);
  });
  it('draws one bar per row', () => {
    const svg = barChart('t', 'req/s', [
      { label: 'a<b', value: 10, low: 8, high: 12 },
      { label: 'c', value: 5 },
    ]);
    assert.equal(svg.match(/<rect x=/g)?.length, 2);
    assert.ok(svg.includes('a&lt;b'));
  });
});

describe('h2load output', () => {
  const H2LOAD = `finished in 1.00s, 2185.00 req/s, 2.40MB/s
requests: 2185 total, 2195 started, 2185 done, 2180 succeeded, 3 failed, 1 errored, 1 timeout
status codes: 2180 2xx, 0 3xx, 2 4xx, 1 5xx
traffic: 2.40MB (2516843) total, 28.89KB (29580) headers (space savings 77.65%)`;
  it('reads throughput and counts failed, errored, timed-out and 4xx/5xx as errors', () => {
    assert.deepEqual(parseH2load(H2LOAD), {
      requestsPerSec: 2185,
      requests: 2185,
      p50Ms: null,
      p99Ms: null,
      errors: 8,
      readErrors: 0,
    });
    assert.throws(() => parseH2load('garbage'), /h2load output not understood/);
  });
});
