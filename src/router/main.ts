import type { Acceptor } from '../child/acceptor.js';
import { sendToMaster, stayAttached } from '../child/attach.js';
import { bootChild, listenToMaster, runChild } from '../child/boot.js';
import { serve } from '../child/serve.js';
import { applyServerLimits } from '../child/server-limits.js';
import type { Config } from '../config/registry.js';
import { workerMessage } from '../ipc/protocol.js';
import { nodeRequire } from '../node-require.js';
import { routerH2 } from './h2-router.js';
import { upstreamCounters, WorkerPool } from './pool.js';
import { createRouter } from './proxy.js';

/**
 * The router process of --router mode: it accepts on the public sockets (inherited from the
 * master, like a worker's) and proxies every request to a worker's private unix socket. The
 * master tells it which workers are routable; client connections stay here across reloads.
 */

async function main(): Promise<void> {
  const boot = bootChild<Config>('router');
  const { config, log, logger } = boot;
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
  const master = listenToMaster(logger, (m) => {
    if (m.type !== 'upstreams') return;
    const before = pool.size;
    pool.apply(m.upstreams, m.timedOut);
    const workers = m.upstreams.map((u) => u.id);
    // Info when the count changes (a worker joined or left), debug for a same-size swap.
    logger[before === pool.size ? 'debug' : 'info'](
      { workers },
      `routing to ${workers.length} worker(s)`,
    );
    sendToMaster(workerMessage({ type: 'upstreams-applied', seq: m.seq }));
  });

  const serving = await serve({
    boot,
    master,
    server,
    h2,
    // The router holds any number of client connections: it never pauses.
    maxConnections: Number.POSITIVE_INFINITY,
    slots,
    stop: () => ({
      onDrain: () => {
        router.draining = true;
        h2?.goaway();
      },
      finish: (code) => process.exit(code),
      reopenLogs: () => log.reopen(),
    }),
  });
  const accepted = serving.acceptor;
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
          proxyHeaderRefused: serving.proxyHeaderRefused(),
          queue: router.queue.counters(),
        }),
      );
    }, 1000).unref();
  }

  await serving.listen(null);
  logger.info({ binds: config.bind.length }, 'router accepting');
  sendToMaster(workerMessage({ type: 'ready' }));
}

runChild('router', main);
