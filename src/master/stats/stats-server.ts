import type { Server } from 'node:http';
import { type BindAddress, formatBindAddress } from '../../config/address.js';
import { ErrorCode, TsgunError } from '../../errors.js';
import { nodeRequire } from '../../node-require.js';
import { clearStaleUnixSocket } from '../sockets/sockets.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import type { EventRecorder } from './event-recorder.js';
import { serveEvents } from './events-stream.js';
import { renderPrometheus } from './prometheus.js';
import type { StatsDocument } from './stats.js';

/**
 * --stats: a small HTTP server in the master. It is not the app's data path (its own address),
 * and every answer is built from what the master already holds. It starts before the master
 * binds anything (a stats address in use fails the start first); until the master is set up,
 * `document()` is null and the answers are 503.
 */
export async function startStatsServer(
  address: BindAddress,
  source: {
    document(): StatsDocument | null;
    ready(): boolean;
    /** The master's timeline (/events, the dashboard's). */
    events: EventRecorder | null;
  },
  /** USR2: the old master's stats socket (TSGUN_STATS_FD), served as is instead of binding. */
  inheritedFd: number | null = null,
  /** --header-timeout, in seconds (0: Node's defaults). */
  headerTimeout = 0,
): Promise<Server> {
  const { createServer } = nodeRequire('node:http') as typeof import('node:http');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string, extra: object = {}) => {
      res.writeHead(status, {
        'content-type': type,
        'content-length': Buffer.byteLength(body),
        'cache-control': 'no-store',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET only\n');
    const doc = path === '/' || path === '/metrics' ? source.document() : null;
    switch (path) {
      case '/':
      case '/metrics':
        if (!doc) return send(503, 'application/json', '{"status":"starting"}\n');
        return path === '/'
          ? send(200, 'application/json', `${JSON.stringify(doc)}\n`)
          : send(200, 'text/plain; version=0.0.4; charset=utf-8', renderPrometheus(doc));
      case '/dashboard':
        // The page reaches nothing but this server, even if a log message it shows held markup.
        return send(200, 'text/html; charset=utf-8', DASHBOARD_HTML, {
          'content-security-policy':
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'",
        });
      case '/events':
        if (!source.events) return send(404, 'text/plain', 'no events\n');
        return serveEvents(req, res, source.events, process.pid);
      case '/healthz':
        return send(200, 'application/json', '{"status":"ok"}\n');
      case '/readyz':
        return source.ready()
          ? send(200, 'application/json', '{"status":"ready"}\n')
          : send(503, 'application/json', '{"status":"not ready"}\n');
      default:
        return send(
          404,
          'text/plain',
          'not found: try /, /metrics, /healthz, /readyz, /dashboard, /events\n',
        );
    }
  });
  slowClientDeadlines(server, headerTimeout * 1000);
  if (inheritedFd !== null) {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new TsgunError(
            ErrorCode.INHERITED_FD,
            `--stats: inherited fd ${inheritedFd}: ${err.message}`,
          ),
        ),
      );
      server.listen({ fd: inheritedFd }, resolve);
    });
    return server;
  }
  if (address.kind === 'unix') {
    // Never unlink the live socket of another running instance: refuse it, as -b unix: does.
    try {
      await clearStaleUnixSocket(address.path, formatBindAddress(address));
    } catch (err) {
      throw new TsgunError(ErrorCode.BIND_FAILED, `--stats: ${(err as Error).message}`);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new TsgunError(
          ErrorCode.BIND_FAILED,
          `--stats: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message}: ${formatBindAddress(address)}`,
        ),
      ),
    );
    if (address.kind === 'tcp') server.listen(address.port, address.host, resolve);
    else if (address.kind === 'unix') server.listen(address.path, resolve);
  });
  return server;
}

/**
 * The app port's --header-timeout on the stats port, so a slowloris cannot hold the master's
 * connections: the request (a GET, no body) must have arrived in full within it. Node answers
 * 408 and closes, a connection that sent nothing at all included.
 */
function slowClientDeadlines(server: Server, ms: number): void {
  if (ms <= 0) return;
  server.headersTimeout = ms;
  server.requestTimeout = ms;
  // Node's check runs this often (30 s by default), read when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1000, Math.max(100, ms / 4));
}
