import type { Server as NetServer } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { Acceptor } from '../child/acceptor.js';
import { sendToMaster, stayAttached } from '../child/attach.js';
import { dropPrivileges } from '../child/drop-privileges.js';
import { openErrorLog } from '../child/open-log.js';
import { proxyProtocolFor } from '../child/proxy-protocol.js';
import { applyServerLimits } from '../child/server-limits.js';
import { handleStopSignals } from '../child/stop-signals.js';
import { tlsFront } from '../child/tls-front.js';
import type { Config } from '../config/registry.js';
import { ErrorCode, ExitCode, TsgunError } from '../errors.js';
import { clip } from '../ipc/limits.js';
import {
  FIRST_LISTEN_FD,
  receiveFromMaster,
  type TlsMaterial,
  WORKER_ENV,
  workerMessage,
} from '../ipc/protocol.js';
import { setProcessTitle } from '../log/proc-title.js';
import { nodeRequire } from '../node-require.js';
import { checkChildPlatform } from '../platform/checks.js';
import { armServerTimeouts } from '../platform/http-timeouts.js';
import { PlatformError } from '../platform/platform-error.js';
import { routerH2 } from './h2-router.js';
import { upstreamCounters, WorkerPool } from './pool.js';
import { createRouter } from './proxy.js';

/**
 * The router process of --router mode: it accepts on the public sockets (inherited from the
 * master, like a worker's) and proxies every request to a worker's private unix socket. The
 * master tells it which workers are routable; client connections stay here across reloads.
 */

async function main(): Promise<void> {
  // Before any file is opened: become --user/--group, or refuse to run.
  const refused = dropPrivileges();
  const config = JSON.parse(process.env[WORKER_ENV.config] ?? 'null') as Config;
  delete process.env[WORKER_ENV.config];
  delete process.env[WORKER_ENV.id];
  const { log, error: logError } = openErrorLog({
    level: config.logLevel,
    file: refused ? '-' : config.errorLogfile,
    role: 'router',
    name: config.name,
    format: config.logFormat,
  });
  setProcessTitle('router', config.name);
  const logger = log.logger;
  const bootFailed = (e: TsgunError): never => {
    logger.error({ code: e.code }, e.message);
    sendToMaster(workerMessage({ type: 'boot-error', code: e.code, message: clip(e.message) }));
    process.exit(e.exitCode);
  };
  if (refused) bootFailed(refused);
  if (logError) bootFailed(logError);
  const platformChecked = checkChildPlatform(logger).then(
    () => null,
    (err: unknown) => err as TsgunError,
  );
  let acceptor: Acceptor | null = null;
  stayAttached(config.timeout, () => acceptor?.sockets.size ?? 0);

  const pool = new WorkerPool(config.workerConnections);
  const router = createRouter(config, pool, logger);
  // Required, not imported: src/node-require.ts says why.
  const { createServer } = nodeRequire('node:http') as typeof import('node:http');
  const server = createServer({ keepAliveTimeout: config.keepAlive * 1000 });
  // The slow-client limits and the keeper that closes slow clients, as a worker's in direct mode.
  // The router holds any number of client connections: no slot limit of its own.
  const slots = applyServerLimits(server, config, Number.POSITIVE_INFINITY, logger);
  server.on('request', router.onRequest);
  server.on('upgrade', router.onUpgrade);
  // Past maxHeadersCount Node drops headers silently: keep it above the limit the router checks.
  if (config.limitRequestFields >= 2000) server.maxHeadersCount = config.limitRequestFields + 1;
  // CONNECT (a tunnel) is not something a reverse proxy serves: answer it rather than let Node
  // drop the connection without a word, which it does when nothing listens for 'connect'.
  server.on('connect', (_req, socket) => {
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', router.onClientError);

  // --http2: its own front (h2-front.ts); without it, nothing of node:http2 is loaded.
  const h2 = config.http2 ? routerH2(config, server, router.onRequest, logger) : null;
  let front: NetServer = h2 ? h2.plain : server;
  let resolveTls: (m: TlsMaterial) => void = () => {};
  const firstTls = new Promise<TlsMaterial>((resolve) => {
    resolveTls = resolve;
  });
  let tlsServer: TlsServer | null = null;
  process.on('message', (value: unknown) => {
    const received = receiveFromMaster(value);
    if (received.kind === 'invalid')
      logger.warn({ reason: received.reason }, 'ignored a malformed message from the master');
    if (received.kind !== 'ours') return;
    const m = received.message;
    if (m.type === 'upstreams') {
      const before = pool.size;
      pool.apply(m.upstreams, m.timedOut);
      const workers = m.upstreams.map((u) => u.id);
      // Info when the count changes (a worker joined or left), debug for a same-size swap.
      logger[before === pool.size ? 'debug' : 'info'](
        { workers },
        `routing to ${workers.length} worker(s)`,
      );
      sendToMaster(workerMessage({ type: 'upstreams-applied', seq: m.seq }));
    } else if (m.type === 'tls') {
      const material = { cert: m.cert, key: m.key, ca: m.ca };
      // Certificate rotation (HUP): new handshakes use the new pair; open connections stay.
      if (tlsServer)
        tlsServer.setSecureContext({ cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) });
      else resolveTls(material);
    }
  });

  if (config.certfile) {
    tlsServer = tlsFront(await firstTls, server, logger, h2?.server ?? null) as TlsServer;
    front = tlsServer;
  }
  const platformError = await platformChecked;
  if (platformError) bootFailed(platformError);
  const accepted = new Acceptor(front, {
    ...(config.proxyProtocol ? { admit: proxyProtocolFor(config, logger) } : {}),
    backlog: config.backlog,
    maxConnections: Number.POSITIVE_INFINITY,
    requestSockets: () => {},
    slots,
    logger,
  });
  acceptor = accepted;

  if (config.stats || config.statsdHost) {
    setInterval(() => {
      sendToMaster(
        workerMessage({
          type: 'router-stats',
          upstreams: [...pool.counters(), ...router.routes.map(upstreamCounters)],
          pending: pool.pending,
          connections: accepted.sockets.size,
          h2Requests: h2?.requests() ?? 0,
          queue: router.queue.counters(),
        }),
      );
    }, 1000).unref();
  }

  handleStopSignals({
    role: 'router',
    acceptor: accepted,
    keepAliveSeconds: config.keepAlive,
    logger,
    onDrain: () => {
      router.draining = true;
      h2?.goaway();
    },
    finish: (code) => process.exit(code),
    reopenLogs: () => log.reopen(),
  });

  try {
    await Promise.all(config.bind.map((_, i) => accepted.listen(i, { fd: FIRST_LISTEN_FD + i })));
  } catch (err) {
    bootFailed(
      err instanceof PlatformError
        ? err
        : new TsgunError(
            ErrorCode.WORKER_LISTEN,
            `router cannot listen: ${(err as Error).message}`,
          ),
    );
  }
  armServerTimeouts(server);
  logger.info({ binds: config.bind.length }, 'router accepting');
  sendToMaster(workerMessage({ type: 'ready' }));
}

main().catch((err: unknown) => {
  process.stderr.write(`tsgun router: ${String((err as Error)?.stack ?? err)}\n`);
  process.exit(ExitCode.WORKER_BOOT);
});
