/** The settings of the Worker processes section: how many, their limits, recycling and readiness. */
import { MAX_WORKERS } from '../../ipc/control.js';
import { bool, int, seconds, secondsOrOff } from '../parsers.js';
import { setting } from '../spec.js';

const positive = int({ min: 1 });
const workerCount = int({ min: 1, max: MAX_WORKERS });
const nonNegative = int({ min: 0 });

export const WORKER_SETTINGS = {
  workers: setting({
    section: 'Worker processes',
    flags: ['-w', '--workers'],
    arg: 'INT|auto',
    default: (env) => (env['WEB_CONCURRENCY'] ? workerCount(env['WEB_CONCURRENCY']) : 1),
    defaultDoc: '$WEB_CONCURRENCY, else 1',
    parse: (v) =>
      typeof v === 'string' && v.trim().toLowerCase() === 'auto' ? 'auto' : workerCount(v),
    help: `Number of worker processes (1-${MAX_WORKERS}), or auto (the CPU quota of the container). TTIN/TTOU change it while running.`,
    hup: true,
  }),
  shutdownDelay: setting({
    section: 'Worker processes',
    flags: ['--shutdown-delay'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'On TERM, /readyz turns 503 at once and workers keep serving this long (load balancers deregister), then the graceful stop.',
    hup: true,
  }),
  workerConnections: setting({
    section: 'Worker processes',
    flags: ['--worker-connections'],
    arg: 'INT',
    default: 1000,
    parse: positive,
    help: 'Open connections a worker holds before it stops accepting (the rest wait in the queue).',
    hup: true,
  }),
  timeout: setting({
    section: 'Worker processes',
    flags: ['-t', '--timeout'],
    arg: 'SECONDS',
    default: 30,
    // Below a second the heartbeat (a quarter of it, at least 50 ms) cannot arrive in time and
    // every worker is killed as it boots.
    parse: secondsOrOff(1),
    help: 'Heartbeat timeout: a worker whose event loop is blocked this long is killed (at least 1). 0 = off.',
    hup: true,
  }),
  gracefulTimeout: setting({
    section: 'Worker processes',
    flags: ['--graceful-timeout'],
    arg: 'SECONDS',
    default: 30,
    parse: seconds(),
    help: 'How long a stopping worker may finish in-flight requests before SIGKILL.',
    hup: true,
  }),
  keepAlive: setting({
    section: 'Worker processes',
    flags: ['--keep-alive'],
    arg: 'SECONDS',
    default: 5,
    parse: seconds(),
    help: 'Seconds an idle keep-alive connection stays open. 0 disables keep-alive.',
    hup: true,
  }),
  maxRequests: setting({
    section: 'Worker processes',
    flags: ['--max-requests'],
    arg: 'INT',
    default: 0,
    parse: nonNegative,
    help: 'Replace a worker gracefully after this many requests. 0 = never.',
    hup: true,
  }),
  maxRequestsJitter: setting({
    section: 'Worker processes',
    flags: ['--max-requests-jitter'],
    arg: 'INT',
    default: 0,
    parse: nonNegative,
    help: 'Add a random 0..N to each worker max-requests so workers do not recycle together.',
    hup: true,
  }),
  maxWorkerLifetime: setting({
    section: 'Worker processes',
    flags: ['--max-worker-lifetime'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'Replace a worker gracefully after it has run this long. 0 = never.',
    hup: true,
  }),
  maxWorkerLifetimeJitter: setting({
    section: 'Worker processes',
    flags: ['--max-worker-lifetime-jitter'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'Add a random 0..S to each worker lifetime so workers do not recycle together.',
    hup: true,
  }),
  reloadOnRss: setting({
    section: 'Worker processes',
    flags: ['--reload-on-rss'],
    arg: 'MB',
    default: 0,
    parse: int({ min: 0 }),
    help: 'Replace a worker gracefully once its resident memory exceeds this many MiB. 0 = never.',
    hup: true,
  }),
  requestTimeout: setting({
    section: 'Worker processes',
    flags: ['--request-timeout'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'Per-request deadline (uWSGI harakiri, without the kill): answer 504 and log. 0 = off.',
    hup: true,
  }),
  waitReady: setting({
    section: 'Worker processes',
    flags: ['--wait-ready'],
    default: false,
    parse: bool,
    help: "A worker is ready only when the app calls tsgun's ready(), not when it accepts.",
    hup: true,
  }),
  readyTimeout: setting({
    section: 'Worker processes',
    flags: ['--ready-timeout'],
    arg: 'SECONDS',
    default: 60,
    parse: seconds({ min: 0.1 }),
    help: 'A worker not ready this long after spawn fails its boot (a reload is aborted).',
    hup: true,
  }),
  reloadBatch: setting({
    section: 'Worker processes',
    flags: ['--reload-batch'],
    arg: 'INT',
    default: 1,
    parse: positive,
    help: 'Workers replaced at once by a reload or recycling.',
    hup: true,
  }),
};
