import { DURATION_BUCKETS, STATUS_CLASSES } from '../../ipc/histogram.js';
import { addCounts, type Counts, countsOf } from './retired.js';
import type { StatsDocument } from './stats.js';

type Labels = Record<string, string | number>;
type Kind = 'gauge' | 'counter' | 'histogram';

/**
 * Labels on every sample, built in this one place: --name, so two servers on one host (or one
 * Prometheus job scraping several) stay apart.
 */
export function instanceLabels(doc: StatsDocument): Labels {
  return { name: doc.name };
}

const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (l: Labels) => {
  const entries = Object.entries(l);
  return entries.length
    ? `{${entries.map(([k, v]) => `${k}="${escapeLabel(String(v))}"`).join(',')}}`
    : '';
};
const value = (v: number) => (Number.isFinite(v) ? String(v) : '0');

/** One worker index: its counters (retired plus live) and the gauges of its live worker(s). */
export interface IndexRow extends Readonly<Counts> {
  readonly index: number;
  /** Live only: during a reload the old and the new worker of an index are added up. */
  readonly live: boolean;
  readonly pid: number;
  readonly requestsPerSec: number;
  readonly inflight: number;
  readonly connections: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** The worse of the index's live workers. */
  readonly loopLagP99Seconds: number;
}

/** Per worker index, in index order: retired totals plus every live worker of the index. */
export function indexRows(doc: StatsDocument): IndexRow[] {
  const rows = new Map<number, IndexRow>();
  const row = (index: number): IndexRow =>
    rows.get(index) ?? {
      index,
      ...countsOf({}),
      live: false,
      pid: 0,
      requestsPerSec: 0,
      inflight: 0,
      connections: 0,
      rssBytes: 0,
      heapUsedBytes: 0,
      loopLagP99Seconds: 0,
    };
  for (const r of doc.retired) {
    const o = row(r.index);
    rows.set(r.index, { ...o, ...addCounts(o, r) });
  }
  // By id: the newest worker of an index names its pid.
  for (const w of [...doc.worker].sort((a, b) => a.id - b.id)) {
    const o = row(w.index);
    rows.set(w.index, {
      index: w.index,
      ...addCounts(o, w),
      live: true,
      pid: w.pid,
      requestsPerSec: o.requestsPerSec + w.requestsPerSec,
      inflight: o.inflight + w.inflight,
      connections: o.connections + w.connections,
      rssBytes: o.rssBytes + w.rssBytes,
      heapUsedBytes: o.heapUsedBytes + w.heapUsedBytes,
      loopLagP99Seconds: Math.max(o.loopLagP99Seconds, w.loopLagP99Ms / 1000),
    });
  }
  return [...rows.values()].sort((a, b) => a.index - b.index);
}

type Series<T> = readonly [Kind, string, (item: T) => number];

/** Per worker index: counters for every index ever used, gauges for the live ones. */
const INDEX_COUNTERS: Readonly<Record<string, Series<IndexRow>>> = {
  worker_requests_total: [
    'counter',
    'Requests the workers of this index received.',
    (w) => w.requests,
  ],
  worker_sent_bytes_total: ['counter', 'Bytes written to clients.', (w) => w.bytesOut],
  worker_responses_5xx_total: ['counter', 'Responses with a 5xx status.', (w) => w.status5xx],
  worker_proxy_header_refused_total: [
    'counter',
    'Connections closed for a bad PROXY protocol header (--proxy-protocol).',
    (w) => w.proxyHeaderRefused,
  ],
  worker_h2_requests_total: [
    'counter',
    'HTTP/2 requests (streams) among the requests (--http2 in direct mode).',
    (w) => w.h2Requests,
  ],
};
const INDEX_GAUGES: Readonly<Record<string, Series<IndexRow>>> = {
  worker_pid: ['gauge', 'Process id of the (newest) worker of this index.', (w) => w.pid],
  worker_requests_per_second: ['gauge', 'Requests in the last second.', (w) => w.requestsPerSec],
  worker_inflight_requests: ['gauge', 'Requests being answered.', (w) => w.inflight],
  worker_connections: ['gauge', 'Open connections.', (w) => w.connections],
  worker_resident_memory_bytes: ['gauge', 'Resident memory.', (w) => w.rssBytes],
  worker_heap_used_bytes: ['gauge', 'V8 heap used.', (w) => w.heapUsedBytes],
  worker_event_loop_lag_p99_seconds: [
    'gauge',
    'Event-loop delay, 99th percentile over the last second.',
    (w) => w.loopLagP99Seconds,
  ],
};

type UpstreamRow = NonNullable<StatsDocument['router']>['upstreams'][number];
const UPSTREAM_SERIES: Readonly<Record<string, Series<UpstreamRow>>> = {
  upstream_requests_total: ['counter', 'Requests the router sent.', (u) => u.requests],
  upstream_errors_total: ['counter', 'Requests that failed (502/504).', (u) => u.errors],
  upstream_retries_total: ['counter', 'Requests retried on another worker.', (u) => u.retries],
  upstream_inflight_requests: ['gauge', 'Requests sent and not answered.', (u) => u.inflight],
};

/** GET /metrics: Prometheus text exposition format (version 0.0.4), in base units. */
export function renderPrometheus(doc: StatsDocument): string {
  const base = instanceLabels(doc);
  const out: string[] = [];
  const head = (name: string, type: Kind, help: string) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const sample = (name: string, l: Labels, v: number) =>
    out.push(`${name}${labelText({ ...base, ...l })} ${value(v)}`);
  const metric = (name: string, type: Kind, help: string, samples: [Labels, number][]) => {
    head(`tsgun_${name}`, type, help);
    for (const [l, v] of samples) sample(`tsgun_${name}`, l, v);
  };
  const one = (name: string, type: Kind, help: string, v: number) =>
    metric(name, type, help, [[{}, v]]);

  head('process_start_time_seconds', 'gauge', 'Start time of the master since the epoch.');
  sample('process_start_time_seconds', {}, doc.startTimeSeconds);
  head('process_resident_memory_bytes', 'gauge', 'Resident memory of the master.');
  sample('process_resident_memory_bytes', {}, doc.rssBytes);
  metric('build_info', 'gauge', 'tsgun and Node versions; always 1.', [
    [{ version: doc.version, node: doc.node }, 1],
  ]);
  one('master_pid', 'gauge', 'Process id of the master.', doc.pid);
  one('uptime_seconds', 'gauge', 'Seconds since the master started.', doc.uptimeSeconds);
  one('workers_target', 'gauge', 'Workers the master keeps (-w, TTIN/TTOU).', doc.workers.target);
  metric(
    'workers',
    'gauge',
    'Worker processes by state.',
    (['booting', 'ready', 'closing'] as const).map((st) => [
      { state: st },
      doc.worker.filter((w) => w.state === st).length,
    ]),
  );
  const c = doc.counters;
  one('workers_spawned_total', 'counter', 'Workers forked.', c.spawned);
  one('workers_exited_total', 'counter', 'Workers that exited, for any reason.', c.exited);
  one('workers_killed_total', 'counter', 'Workers SIGKILLed by the master (timeouts).', c.killed);
  one('worker_respawns_total', 'counter', 'Workers respawned after a crash.', c.respawns);
  one(
    'fork_failures_total',
    'counter',
    'Forks of a worker or the router that failed.',
    c.forkFailures,
  );
  one('reloads_total', 'counter', 'HUP reloads.', c.reloads);
  one(
    'listen_queue_full_total',
    'counter',
    'Times a listen queue was found full.',
    c.listenQueueFull,
  );
  metric(
    'listen_queue',
    'gauge',
    'Connections waiting in the kernel accept queue.',
    doc.sockets.filter((s) => s.queue !== null).map((s) => [{ socket: s.address }, s.queue!]),
  );
  metric(
    'listen_queue_max',
    'gauge',
    'Effective backlog: min(--backlog, somaxconn).',
    doc.sockets.map((s) => [{ socket: s.address }, s.maxBacklog]),
  );

  const name = 'tsgun_http_request_duration_seconds';
  head(name, 'histogram', 'Time from request to the end of the response, by status class.');
  STATUS_CLASSES.forEach((code) => {
    const h = doc.requestDuration.classes[code]!;
    // 1xx final responses are rare (a finished upgrade is not one): shown once there is one.
    if (code === '1xx' && h.count === 0) return;
    h.cumulative.forEach((n, i) => {
      const le = i < DURATION_BUCKETS.length ? DURATION_BUCKETS[i]! : '+Inf';
      sample(`${name}_bucket`, { code, le }, n);
    });
    sample(`${name}_sum`, { code }, h.sumSeconds);
    sample(`${name}_count`, { code }, h.count);
  });

  const rows = indexRows(doc);
  const live = rows.filter((r) => r.live);
  for (const [series, items] of [
    [INDEX_COUNTERS, rows],
    [INDEX_GAUGES, live],
  ] as const)
    for (const [n, [type, help, pick]] of Object.entries(series))
      metric(
        n,
        type,
        help,
        items.map((r) => [{ worker: r.index }, pick(r)]),
      );

  if (doc.router) {
    const r = doc.router;
    one('router_connections', 'gauge', 'Client connections open at the router.', r.connections);
    one('router_pending_requests', 'gauge', 'Requests waiting for a ready worker.', r.pending);
    one(
      'router_h2_requests_total',
      'counter',
      'HTTP/2 requests the router served (--http2).',
      r.h2Requests,
    );
    one(
      'router_proxy_header_refused_total',
      'counter',
      'Connections the router closed for a bad PROXY protocol header (--proxy-protocol).',
      r.proxyHeaderRefused,
    );
    one('router_restarts_total', 'counter', 'Times the router was started again.', r.restarts);
    const q = r.queue;
    one('router_queue_waiting', 'gauge', 'Requests waiting for a worker connection.', q.waiting);
    one('router_queue_high_water', 'gauge', 'Most requests that waited at once.', q.highWater);
    metric('router_shed_total', 'counter', 'Requests answered 503 by the request queue.', [
      [{ reason: 'limit' }, q.shedLimit],
      [{ reason: 'timeout' }, q.shedTimeout],
    ]);
    for (const [n, [type, help, pick]] of Object.entries(UPSTREAM_SERIES))
      metric(
        n,
        type,
        help,
        r.upstreams.map((u) => [{ upstream: u.name }, pick(u)]),
      );
  }
  return `${out.join('\n')}\n`;
}
