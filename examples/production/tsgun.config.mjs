// A production config for tsgun: `tsgun -c examples/production/tsgun.config.mjs`.
// Every key is a setting (see the README's settings table); functions are server hooks.
// Values here sit between the defaults and the environment / TSGUN_CMD_ARGS / command line.
export default {
  // What to serve. A relative path is resolved from the directory tsgun starts in.
  app: 'examples/event-queue/app.js',

  // Behind nginx on the same host: a unix socket, and a loopback port for health checks.
  bind: ['unix:/run/tsgun/app.sock', '127.0.0.1:8000'],
  umask: '0o007', // the socket file is rw for the owner and nginx's group only
  backlog: 2048, // checked against net.core.somaxconn at start

  // One worker per CPU is the usual start; WEB_CONCURRENCY still wins when set.
  workers: 4,
  workerConnections: 1000,
  keepAlive: 5, // nginx keeps upstream connections alive: keep this above its keepalive_timeout

  // Two different timeouts (see README "Timeouts, side by side").
  timeout: 30, // heartbeat: the event loop is blocked this long -> the worker is killed
  requestTimeout: 60, // one request takes this long -> 504, the worker lives on
  gracefulTimeout: 30,
  readyTimeout: 60,

  // Recycle slowly leaking workers, never all at once.
  maxRequests: 100000,
  maxRequestsJitter: 5000,
  reloadOnRss: 512,

  // Logs: JSON error log to stderr (journald), access log to a file (USR1 reopens it).
  logLevel: 'info',
  accessLogfile: '/var/log/tsgun/access.log',

  // Stats for Prometheus and `tsgun top`, on loopback only.
  stats: '127.0.0.1:9191',

  // /run/tsgun: systemd makes it (RuntimeDirectory=tsgun); --check-config says when it is missing.
  pid: '/run/tsgun/tsgun.pid',

  // Server hooks: a hook that throws is logged and ignored, except onStarting.
  onStarting(server) {
    server.log.info('starting: migrations are checked before any socket is bound');
  },
  whenReady(server) {
    server.log.info({ workers: server.workers().length }, 'all workers accepting');
  },
  childExit(server, worker) {
    server.log.info({ worker: worker.id, pid: worker.pid }, 'a worker left');
  },
};
