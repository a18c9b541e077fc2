import type { WorkerCounters } from '../ipc/protocol.js';
import type { WorkerState } from './plan.js';
import type { RouterStats } from './router-process.js';
import type { JobView } from './scheduler.js';

/** What the arbiter knows, handed to the pure renderers below. */
export interface StatsSnapshot {
  readonly version: string;
  /** --name: a label on every metric, so two servers on one host stay apart. */
  readonly name: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly now: number;
  readonly targetWorkers: number;
  readonly jobs: readonly JobView[];
  /** --router: the router process and its per-upstream counters; null in direct mode. */
  readonly router: RouterStats | null;
  readonly counters: {
    readonly spawned: number;
    readonly exited: number;
    readonly killed: number;
    readonly respawns: number;
    /** Forks that failed (EAGAIN at a process limit, EMFILE, ENOENT): no process was started. */
    readonly forkFailures: number;
    readonly reloads: number;
    readonly listenQueueFull: number;
  };
  readonly sockets: readonly {
    readonly address: string;
    readonly queue: number | null;
    readonly maxBacklog: number;
  }[];
  readonly workers: readonly {
    readonly id: number;
    readonly pid: number;
    readonly state: WorkerState;
    readonly generation: number;
    readonly startedAt: number;
    readonly lastHeartbeat: number;
    readonly requestsPerSec: number;
    readonly counters: WorkerCounters | null;
  }[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** GET / : uWSGI-style stats, one JSON document. */
export function statsDocument(s: StatsSnapshot) {
  return {
    version: s.version,
    name: s.name,
    pid: s.pid,
    uptimeSeconds: Math.round((s.now - s.startedAt) / 1000),
    workers: {
      target: s.targetWorkers,
      current: s.workers.filter((w) => w.state !== 'closing').length,
    },
    counters: s.counters,
    sockets: s.sockets,
    jobs: s.jobs,
    router: s.router
      ? {
          pid: s.router.pid,
          state: s.router.state,
          startedAt: iso(s.router.startedAt),
          restarts: s.router.restarts,
          pending: s.router.pending,
          connections: s.router.connections,
          upstreams: s.router.upstreams,
        }
      : null,
    worker: s.workers.map((w) => {
      const c = w.counters;
      return {
        id: w.id,
        pid: w.pid,
        state: w.state,
        generation: w.generation,
        requests: c?.requests ?? 0,
        requestsPerSec: w.requestsPerSec,
        inflight: c?.inflight ?? 0,
        connections: c?.connections ?? 0,
        bytesOut: c?.bytesOut ?? 0,
        avgResponseMs: c && c.finished > 0 ? c.responseMsTotal / c.finished : 0,
        status5xx: c?.status5xx ?? 0,
        rssBytes: c?.rssBytes ?? 0,
        heapUsedBytes: c?.heapUsedBytes ?? 0,
        loopLagP99Ms: c?.loopLagP99Ms ?? 0,
        startedAt: iso(w.startedAt),
        lastHeartbeat: iso(w.lastHeartbeat),
      };
    }),
  };
}
export type StatsDocument = ReturnType<typeof statsDocument>;

const escapeLabel = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string | number>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
    .join(',')}}`;

/** GET /metrics : the same, in Prometheus text exposition format (version 0.0.4). */
/** A metric with one sample per item: its type, its help text, and the item's value. */
type Series<T> = readonly ['gauge' | 'counter', string, (item: T) => number];
type WorkerRow = StatsDocument['worker'][number];
type UpstreamRow = NonNullable<StatsDocument['router']>['upstreams'][number];

/** Per-worker metrics, by name (in output order). */
const WORKER_SERIES: Readonly<Record<string, Series<WorkerRow>>> = {
  worker_requests_total: ['counter', 'Requests a worker received.', (w) => w.requests],
  worker_requests_per_second: ['gauge', 'Requests in the last second.', (w) => w.requestsPerSec],
  worker_inflight_requests: ['gauge', 'Requests being answered.', (w) => w.inflight],
  worker_connections: ['gauge', 'Open connections.', (w) => w.connections],
  worker_bytes_out_total: ['counter', 'Bytes written to clients.', (w) => w.bytesOut],
  worker_response_time_avg_ms: ['gauge', 'Average response time.', (w) => w.avgResponseMs],
  worker_responses_5xx_total: ['counter', 'Responses with a 5xx status.', (w) => w.status5xx],
  worker_rss_bytes: ['gauge', 'Resident memory.', (w) => w.rssBytes],
  worker_heap_used_bytes: ['gauge', 'V8 heap used.', (w) => w.heapUsedBytes],
  worker_event_loop_lag_p99_ms: [
    'gauge',
    'Event-loop delay, 99th percentile over the last second.',
    (w) => w.loopLagP99Ms,
  ],
};

/** Per-upstream metrics of the router, by name (in output order). */
const UPSTREAM_SERIES: Readonly<Record<string, Series<UpstreamRow>>> = {
  upstream_requests_total: ['counter', 'Requests the router sent.', (u) => u.requests],
  upstream_errors_total: ['counter', 'Requests that failed (502/504).', (u) => u.errors],
  upstream_retries_total: ['counter', 'Requests retried on another worker.', (u) => u.retries],
  upstream_inflight_requests: ['gauge', 'Requests sent and not answered.', (u) => u.inflight],
};

export function renderPrometheus(doc: StatsDocument): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: [Record<string, string | number>, number][],
  ) => {
    out.push(`# HELP tsgun_${name} ${help}`, `# TYPE tsgun_${name} ${type}`);
    for (const [l, v] of samples)
      out.push(`tsgun_${name}${labels({ name: doc.name, ...l })} ${Number.isFinite(v) ? v : 0}`);
  };
  /** One metric per call, one sample per item (a worker, an upstream), labelled by `label`. */
  const seriesOf =
    <T>(items: readonly T[], label: (item: T) => Record<string, string | number>) =>
    (name: string, type: 'gauge' | 'counter', help: string, pick: (item: T) => number) =>
      metric(
        name,
        type,
        help,
        items.map((item) => [label(item), pick(item)]),
      );
  metric('uptime_seconds', 'gauge', 'Seconds since the master started.', [[{}, doc.uptimeSeconds]]);
  metric('workers_target', 'gauge', 'Workers the master keeps (-w, TTIN/TTOU).', [
    [{}, doc.workers.target],
  ]);
  const states = ['booting', 'ready', 'closing'] as const;
  metric(
    'workers',
    'gauge',
    'Worker processes by state.',
    states.map((st) => [{ state: st }, doc.worker.filter((w) => w.state === st).length]),
  );
  metric('workers_spawned_total', 'counter', 'Workers forked.', [[{}, doc.counters.spawned]]);
  metric('workers_exited_total', 'counter', 'Workers that exited, for any reason.', [
    [{}, doc.counters.exited],
  ]);
  metric('workers_killed_total', 'counter', 'Workers SIGKILLed by the master (timeouts).', [
    [{}, doc.counters.killed],
  ]);
  metric('worker_respawns_total', 'counter', 'Workers respawned after a crash.', [
    [{}, doc.counters.respawns],
  ]);
  metric('fork_failures_total', 'counter', 'Forks of a worker or the router that failed.', [
    [{}, doc.counters.forkFailures],
  ]);
  metric('reloads_total', 'counter', 'HUP reloads.', [[{}, doc.counters.reloads]]);
  metric('listen_queue_full_total', 'counter', 'Times a listen queue was found full.', [
    [{}, doc.counters.listenQueueFull],
  ]);
  const sockets = doc.sockets.filter((s) => s.queue !== null);
  metric(
    'listen_queue',
    'gauge',
    'Connections waiting in the kernel accept queue.',
    sockets.map((s) => [{ socket: s.address }, s.queue!]),
  );
  metric(
    'listen_queue_max',
    'gauge',
    'Effective backlog: min(--backlog, somaxconn).',
    doc.sockets.map((s) => [{ socket: s.address }, s.maxBacklog]),
  );
  const per = seriesOf(doc.worker, (w) => ({ worker: w.id, pid: w.pid }));
  for (const [name, [type, help, pick]] of Object.entries(WORKER_SERIES))
    per(name, type, help, pick);
  if (doc.router) {
    const r = doc.router;
    metric('router_connections', 'gauge', 'Client connections open at the router.', [
      [{}, r.connections],
    ]);
    metric('router_pending_requests', 'gauge', 'Requests waiting for a ready worker.', [
      [{}, r.pending],
    ]);
    metric('router_restarts_total', 'counter', 'Times the router was started again.', [
      [{}, r.restarts],
    ]);
    const up = seriesOf(r.upstreams, (u) => ({ upstream: u.name }));
    for (const [name, [type, help, pick]] of Object.entries(UPSTREAM_SERIES))
      up(name, type, help, pick);
  }
  return `${out.join('\n')}\n`;
}
