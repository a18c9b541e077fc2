import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderStats } from '../../src/cli/stats-client.js';
import {
  addHistogram,
  bucketIndex,
  classSeries,
  emptyHistogram,
  isHistogram,
  observe,
  SLOTS,
  statusClassIndex,
} from '../../src/ipc/histogram.js';
import type { WorkerCounters } from '../../src/ipc/protocol.js';
import { zeroMasterCounts } from '../../src/master/stats/master-stats.js';
import { renderPrometheus } from '../../src/master/stats/prometheus.js';
import { RetiredCounters } from '../../src/master/stats/retired.js';
import { type StatsSnapshot, statsDocument } from '../../src/master/stats/stats.js';
import { packets, reportLines } from '../../src/master/stats/statsd.js';

function counters(over: Partial<WorkerCounters> = {}): WorkerCounters {
  return {
    requests: 0,
    inflight: 0,
    connections: 0,
    bytesOut: 0,
    responseMsTotal: 0,
    finished: 0,
    status5xx: 0,
    statusDelta: {},
    rssBytes: 0,
    heapUsedBytes: 0,
    loopLagP99Ms: 0,
    logLinesDropped: 0,
    proxyHeaderRefused: 0,
    durations: emptyHistogram(),
    timings: [],
    ...over,
  };
}

function snapshot(over: Partial<StatsSnapshot> = {}): StatsSnapshot {
  return {
    version: '9.9.9',
    node: 'v22.0.0',
    name: 'app',
    pid: 100,
    rssBytes: 1000,
    startedAt: 1_700_000_000_500,
    now: 1_700_000_010_500,
    targetWorkers: 1,
    jobs: [],
    router: null,
    counters: { ...zeroMasterCounts(), spawned: 1 },
    sockets: [],
    retired: [],
    workers: [],
    ...over,
  };
}

const worker = (id: number, index: number, c: WorkerCounters) => ({
  id,
  index,
  pid: 1000 + id,
  state: 'ready' as const,
  generation: 1,
  startedAt: 0,
  lastHeartbeat: 0,
  requestsPerSec: 0,
  counters: c,
});

/** name{labels} -> value, for the sample lines of an exposition. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.trim().split('\n')) {
    if (line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe('request-duration histogram', () => {
  it('puts a duration in the first bucket whose bound holds it (bounds inclusive)', () => {
    assert.equal(bucketIndex(0), 0);
    assert.equal(bucketIndex(0.005), 0);
    assert.equal(bucketIndex(0.0051), 1);
    assert.equal(bucketIndex(1), 7);
    assert.equal(bucketIndex(10), 10);
    assert.equal(bucketIndex(10.01), SLOTS - 1);
  });

  it('sorts statuses into classes, anything outside 100-599 as 5xx', () => {
    assert.deepEqual(
      [101, 200, 304, 404, 503, 0, 999].map(statusClassIndex),
      [0, 1, 2, 3, 4, 4, 4],
    );
  });

  it('renders cumulative buckets, the sum and the count per class', () => {
    const h = emptyHistogram();
    observe(h, 200, 0.003);
    observe(h, 200, 0.2);
    observe(h, 201, 30);
    observe(h, 500, 0.02);
    const ok = classSeries(h, 1);
    assert.equal(ok.count, 3);
    assert.ok(Math.abs(ok.sum - 30.203) < 1e-9);
    assert.deepEqual(ok.buckets[0], ['0.005', 1]);
    assert.deepEqual(ok.buckets[5], ['0.25', 2]);
    assert.deepEqual(ok.buckets[10], ['10', 2]);
    assert.deepEqual(ok.buckets[11], ['+Inf', 3]);
    assert.equal(classSeries(h, 4).count, 1);
    assert.ok(isHistogram(h));
    assert.ok(!isHistogram({ counts: [1], sums: [] }));
  });

  it('adds sums exactly, whatever the order (a scrape never sees the sum go down)', () => {
    // As floats, (0.1 + 0.2) + 0.3 > 0.1 + (0.2 + 0.3): retired + live totals added in another
    // order on the next scrape would go down by one ulp.
    const one = (seconds: number) => {
      const h = emptyHistogram();
      observe(h, 200, seconds);
      return h;
    };
    const total = (order: number[]) => {
      const into = emptyHistogram();
      for (const s of order) addHistogram(into, one(s));
      return classSeries(into, 1).sum;
    };
    assert.equal(total([0.1, 0.2, 0.3]), total([0.3, 0.2, 0.1]));
    assert.equal(total([0.1, 0.2, 0.3]), 0.6);
  });
});

describe('retired counters', () => {
  it("add an exited worker's last report to its index, and never lose earlier ones", () => {
    const retired = new RetiredCounters();
    const h = emptyHistogram();
    observe(h, 200, 0.01);
    retired.add(1, counters({ requests: 5, bytesOut: 50, status5xx: 1, durations: h }));
    retired.add(1, counters({ requests: 3 }));
    retired.add(0, null); // a worker that died before its first report
    const [only, ...rest] = retired.view();
    assert.equal(rest.length, 0);
    assert.equal(only!.index, 1);
    assert.equal(only!.totals.requests, 8);
    assert.equal(only!.totals.bytesOut, 50);
    assert.equal(
      only!.totals.durations.counts.reduce((a, b) => a + b),
      1,
    );
  });

  it('make /metrics counters the sum of retired and live workers of an index', () => {
    const retired = new RetiredCounters();
    retired.add(0, counters({ requests: 7, proxyHeaderRefused: 4, h2Requests: 6 }));
    retired.add(3, counters({ requests: 2 })); // scaled down: no live worker at index 3
    const h = emptyHistogram();
    observe(h, 404, 0.001);
    const doc = statsDocument(
      snapshot({
        retired: retired.view(),
        workers: [
          worker(
            4,
            0,
            counters({ requests: 1, proxyHeaderRefused: 1, h2Requests: 1, durations: h }),
          ),
        ],
      }),
    );
    const s = samples(renderPrometheus(doc));
    assert.equal(s.get('tsgun_worker_requests_total{name="app",worker="0"}'), 8);
    assert.equal(s.get('tsgun_worker_proxy_header_refused_total{name="app",worker="0"}'), 5);
    assert.equal(s.get('tsgun_worker_proxy_header_refused_total{name="app",worker="3"}'), 0);
    assert.equal(s.get('tsgun_worker_h2_requests_total{name="app",worker="0"}'), 7);
    assert.equal(s.get('tsgun_worker_h2_requests_total{name="app",worker="3"}'), 0);
    assert.equal(doc.worker[0]?.proxyHeaderRefused, 1);
    assert.match(renderStats(doc), /^PROXY headers refused 1 /m);
    assert.doesNotMatch(renderStats(statsDocument(snapshot())), /PROXY/);
    assert.equal(s.get('tsgun_worker_requests_total{name="app",worker="3"}'), 2);
    assert.equal(s.get('tsgun_worker_pid{name="app",worker="0"}'), 1004);
    assert.equal(s.has('tsgun_worker_pid{name="app",worker="3"}'), false);
    assert.equal(s.get('tsgun_http_request_duration_seconds_count{name="app",code="4xx"}'), 1);
    assert.equal(doc.retired.length, 2);
  });
});

describe('Prometheus exposition', () => {
  it('uses base units, no pid label, and has build info and the start time', () => {
    const text = renderPrometheus(
      statsDocument(
        snapshot({ workers: [worker(1, 0, counters({ loopLagP99Ms: 12, rssBytes: 5 }))] }),
      ),
    );
    const s = samples(text);
    assert.equal(s.get('process_start_time_seconds{name="app"}'), 1_700_000_000.5);
    assert.equal(s.get('tsgun_build_info{name="app",version="9.9.9",node="v22.0.0"}'), 1);
    assert.equal(s.get('tsgun_worker_event_loop_lag_p99_seconds{name="app",worker="0"}'), 0.012);
    assert.equal(s.get('tsgun_worker_resident_memory_bytes{name="app",worker="0"}'), 5);
    assert.doesNotMatch(text, /pid="/);
    assert.doesNotMatch(text, /_ms[ {]|_ms$/m);
    // Every sample follows its HELP and TYPE; counters end in _total.
    const typed = new Map<string, string>();
    for (const line of text.trim().split('\n')) {
      const t = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (t) typed.set(t[1]!, t[2]!);
      if (line.startsWith('#')) continue;
      const name = /^[a-zA-Z0-9_:]+/.exec(line)![0];
      const family = name.replace(/_(bucket|sum|count)$/, '');
      const type = typed.get(name) ?? typed.get(family);
      assert.ok(type, `sample before its TYPE: ${line}`);
      if (type === 'counter') assert.match(name, /_total$/);
    }
    assert.match(text, /# TYPE tsgun_http_request_duration_seconds histogram/);
    assert.ok(text.endsWith('\n'));
  });
});

describe('statsd lines', () => {
  it('one timer line per request, with the sample rate when below 1', () => {
    const c = counters({ requests: 3, timings: [1.5, 2, 0.25], statusDelta: { 200: 3 } });
    assert.deepEqual(reportLines('app', 1, c, null), [
      'app.requests:3|c',
      'app.request.duration:1.5|ms',
      'app.request.duration:2|ms',
      'app.request.duration:0.25|ms',
      'app.request.status.200:3|c',
    ]);
    const sampled = reportLines('app', 0.1, counters({ requests: 9, timings: [3] }), counters());
    assert.deepEqual(sampled, ['app.requests:9|c', 'app.request.duration:3|ms|@0.1']);
  });

  it('packs lines into datagrams under the size limit, never splitting a line', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `tsgun.request.duration:${i}.123|ms`);
    const out = packets(lines, 200);
    assert.ok(out.length > 1);
    assert.ok(out.every((p) => p.length <= 200));
    assert.deepEqual(out.join('\n').split('\n'), lines);
  });
});
