import { isHistogram } from './histogram.js';
import {
  describe,
  isCount,
  isCountArray,
  isIndex,
  isStatusDelta,
  isText,
  jobNameProblem,
  MAX_APP_JOBS,
  MAX_SCHEDULE,
  MAX_TIMINGS,
  MAX_UPSTREAM_NAME,
  MAX_UPSTREAMS,
} from './limits.js';
import {
  type MasterMessage,
  NOTICES,
  PROTOCOL_KEY,
  QUEUE_COUNTERS,
  RETIRE_REASONS,
  type WorkerMessage,
} from './protocol.js';

/**
 * Receiving the IPC protocol (protocol.ts): every message is checked against its type's shape
 * and bounds before anyone reads it. A worker runs the app, so what it sends is untrusted input:
 * a check returns false, never throws, and the message is then dropped (and counted) by the
 * master's guard.
 */

/** The longest `host:port` a pass-busy message carries (a hostname is at most 253 characters). */
const MAX_ADDRESS = 300;
type Checker = (m: Record<string, unknown>) => boolean;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

const isUpstreamCounters = (u: unknown): boolean =>
  isRecord(u) &&
  isText(u['name'], MAX_UPSTREAM_NAME) &&
  ['requests', 'errors', 'retries', 'inflight'].every((k) => isCount(u[k]));

const isUpstreamWorker = (u: unknown): boolean =>
  isRecord(u) &&
  Number.isInteger(u['id']) &&
  typeof u['path'] === 'string' &&
  typeof u['stale'] === 'boolean';

const isJob = (j: unknown): boolean =>
  isRecord(j) && jobNameProblem(j['name']) === null && isText(j['schedule'], MAX_SCHEDULE);

/** Every counter of a stats report (statusDelta, durations and timings are checked apart). */
const STATS_COUNTERS = [
  'requests',
  'inflight',
  'connections',
  'bytesOut',
  'responseMsTotal',
  'finished',
  'status5xx',
  'rssBytes',
  'heapUsedBytes',
  'loopLagP99Ms',
  'logLinesDropped',
  'proxyHeaderRefused',
] as const;

/**
 * What the master accepts from a child: the right types, finite non-negative counters, bounded
 * strings and arrays (src/ipc/limits.ts). Nothing here can throw or loop past those bounds.
 */

/** The longest host name DNS allows: a longer one is nobody's address. */
const MAX_HOST_LENGTH = 253;

/** An address a worker may ask the master to bind: a real port, a bounded host name or IP. */
export function isWantedAddress(host: unknown, port: unknown): boolean {
  return (
    Number.isInteger(port) &&
    (port as number) >= 1 &&
    (port as number) <= 65535 &&
    (host === null ||
      (typeof host === 'string' &&
        host.length > 0 &&
        host.length <= MAX_HOST_LENGTH &&
        /^[A-Za-z0-9.:_%-]+$/.test(host)))
  );
}

const WORKER_CHECKS: Record<WorkerMessage['type'], Checker> = {
  ready: () => true,
  heartbeat: (m) =>
    isCount(m['connections']) && (m['requests'] === undefined || isCount(m['requests'])),
  retire: (m) =>
    (RETIRE_REASONS as readonly unknown[]).includes(m['reason']) && isText(m['detail']),
  'boot-error': (m) =>
    isText(m['code'], 64) && m['code'].startsWith('TSGUN_ERR_') && isText(m['message']),
  'want-sockets': () => true,
  'pass-busy': (m) =>
    typeof m['address'] === 'string' &&
    m['address'].length <= MAX_ADDRESS &&
    Number.isInteger(m['port']) &&
    (m['port'] as number) > 0 &&
    (m['port'] as number) <= 65535 &&
    Number.isSafeInteger(m['attempts']) &&
    (m['attempts'] as number) >= 0,
  notice: (m) => (NOTICES as readonly unknown[]).includes(m['notice']),
  'spare-waiting': () => true,
  'want-bind': (m) => isWantedAddress(m['host'], m['port']),
  'upstreams-applied': (m) => isIndex(m['seq']),
  'router-stats': (m) =>
    Array.isArray(m['upstreams']) &&
    m['upstreams'].length <= MAX_UPSTREAMS &&
    m['upstreams'].every(isUpstreamCounters) &&
    isCount(m['pending']) &&
    isCount(m['connections']) &&
    isCount(m['h2Requests']) &&
    isCount(m['proxyHeaderRefused']) &&
    isRecord(m['queue']) &&
    QUEUE_COUNTERS.every((k) => isCount((m['queue'] as Record<string, unknown>)[k])),
  jobs: (m) =>
    Array.isArray(m['jobs']) && m['jobs'].length <= MAX_APP_JOBS && m['jobs'].every(isJob),
  'job-done': (m) =>
    isIndex(m['runId']) &&
    typeof m['ok'] === 'boolean' &&
    (m['error'] === null || isText(m['error'])) &&
    isCount(m['durationMs']),
  stats: (m) =>
    STATS_COUNTERS.every((k) => isCount(m[k])) &&
    (m['h2Requests'] === undefined || isCount(m['h2Requests'])) &&
    isStatusDelta(m['statusDelta']) &&
    isHistogram(m['durations']) &&
    isCountArray(m['timings'], MAX_TIMINGS),
};

const MASTER_CHECKS: Record<MasterMessage['type'], Checker> = {
  socket: (m) => Number.isInteger(m['index']),
  'bind-result': (m) => m['error'] === null || typeof m['error'] === 'string',
  boot: (m) =>
    Number.isInteger(m['sockets']) &&
    Number.isInteger(m['umask']) &&
    m['env'] !== null &&
    typeof m['env'] === 'object' &&
    Object.values(m['env'] as object).every((v) => typeof v === 'string'),
  tls: (m) =>
    typeof m['cert'] === 'string' &&
    typeof m['key'] === 'string' &&
    (m['ca'] === null || typeof m['ca'] === 'string'),
  'run-job': (m) => typeof m['name'] === 'string' && Number.isInteger(m['runId']),
  upstreams: (m) =>
    Number.isInteger(m['seq']) &&
    Array.isArray(m['upstreams']) &&
    (m['upstreams'] as unknown[]).every(isUpstreamWorker) &&
    Array.isArray(m['timedOut']) &&
    (m['timedOut'] as unknown[]).every(Number.isInteger),
};

export type Received<T> =
  | { readonly kind: 'ours'; readonly message: T }
  | { readonly kind: 'foreign' }
  | { readonly kind: 'invalid'; readonly reason: string };

function receive<T>(value: unknown, checks: Record<string, Checker>): Received<T> {
  if (value === null || typeof value !== 'object' || !(PROTOCOL_KEY in value))
    return { kind: 'foreign' };
  const m = value as Record<string, unknown>;
  if (m[PROTOCOL_KEY] !== 1)
    return { kind: 'invalid', reason: `unknown protocol version ${describe(m[PROTOCOL_KEY])}` };
  const type = m['type'];
  const check = typeof type === 'string' && Object.hasOwn(checks, type) ? checks[type] : undefined;
  if (!check) return { kind: 'invalid', reason: `unknown message type ${describe(type)}` };
  if (!check(m)) return { kind: 'invalid', reason: `malformed ${type} message` };
  return { kind: 'ours', message: m as T };
}

export const receiveFromWorker = (value: unknown): Received<WorkerMessage> =>
  receive<WorkerMessage>(value, WORKER_CHECKS);
export const receiveFromMaster = (value: unknown): Received<MasterMessage> =>
  receive<MasterMessage>(value, MASTER_CHECKS);
