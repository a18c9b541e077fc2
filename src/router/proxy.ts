import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ProxyServer } from 'http-proxy-3';
import type { Dispatcher } from 'undici';
import { h2HasBody } from '../child/h2-front.js';
import { clientErrorAnswer, refuse } from '../child/refuse.js';
import { checkLimits, limitText } from '../child/request-limits.js';
import { isTrusted, trustList } from '../child/trust-list.js';
import type { Config } from '../config/registry.js';
import { matchRoute } from '../config/route.js';
import type { Logger } from '../log/logger.js';
import { nodeRequire } from '../node-require.js';
import { responseOf } from '../platform/socket-state.js';
import { Attempt, type AttemptOwner, Exchange } from './attempt.js';
import { isRetryable, stickyCookieValue } from './balance.js';
import { forwardedHeaders } from './forwarded.js';
import { badRequest, requestHeaders } from './headers.js';
import { NOT_STICKY, routeUpstream, type Sticky, type Upstream, type WorkerPool } from './pool.js';
import { RouterQueue } from './router-queue.js';

/** Connection-level failures: nothing reached the app, or the worker died under the request. */
const RETRY_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
/** The worker is not there at all (stopped or crashed): wait for the master's next list. */
const GONE_CODES = new Set(['ECONNREFUSED', 'ENOENT']);
/** undici's --proxy-timeout errors: no response head, or no body byte, in time. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/**
 * undici refused the request before sending it: something in what the client sent (a request
 * target or a header it cannot put on the wire). The client's fault, answered 400, and never
 * counted against the worker.
 */
const REFUSED_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED']);

const NO_HEADERS: readonly string[] = [];

const HOP_BY_HOP_WS = ['keep-alive', 'proxy-connection', 'te', 'trailer'];

export interface RouterHandlers {
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  /** Node's parser rejected what a client sent (a request, or the body of one being proxied). */
  readonly onClientError: (err: NodeJS.ErrnoException, socket: Duplex) => void;
  readonly routes: readonly Upstream[];
  /** Requests waiting for a worker connection, and those shed (--queue-limit, --queue-timeout). */
  readonly queue: RouterQueue;
  /** Stopping: every response from now on closes its client connection. */
  draining: boolean;
}

function sendError(
  res: ServerResponse,
  status: 502 | 503 | 504,
  detail: { upstream: string | null; code: string | null },
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const error =
    status === 502 ? 'bad gateway' : status === 504 ? 'gateway timeout' : 'no worker available';
  const body = JSON.stringify({ error, status, ...detail });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function wantsKeepAlive(req: IncomingMessage): boolean {
  const connection = req.headers.connection?.toLowerCase() ?? '';
  return req.httpVersion === '1.0'
    ? connection.includes('keep-alive')
    : !connection.includes('close');
}

/**
 * The router's request path: choose a worker (sticky, else least outstanding), send the request
 * over that worker's undici pool, retry an idempotent bodiless request when the worker could not
 * take it, and answer 502/503/504 with a short JSON body when nothing can. WebSocket upgrades go
 * through http-proxy-3.
 */
export function createRouter(config: Config, pool: WorkerPool, logger: Logger): RouterHandlers {
  const proxy = new ProxyServer({ xfwd: false, ws: true });
  const trust = trustList(config.forwardedAllowIps);
  const routes = config.route.map((r) => ({ entry: r, upstream: routeUpstream(r.prefix, r.url) }));
  const timeoutMs = config.proxyTimeout * 1000;
  const keepAliveMs = config.keepAlive * 1000;
  const keepHeaders = [
    'connection',
    'keep-alive',
    'keep-alive',
    `timeout=${Math.max(1, Math.floor(config.keepAlive))}`,
  ];
  const closeHeaders = ['connection', 'close'];
  const queue = new RouterQueue(config, logger);

  /** The exchange of each response in progress, for a client error on its connection. */
  const exchanges = new WeakMap<ServerResponse, Exchange>();

  // Without this listener an upstream error thrown outside a request would crash the router.
  proxy.on('error', (err) => logger.debug({ err: err.message }, 'proxy error'));

  const stickyOf = (req: IncomingMessage): Sticky => {
    if (config.sticky === 'cookie')
      return { workerId: stickyCookieValue(req.headers.cookie), ip: null, pinned: true };
    if (config.sticky === 'ip')
      return { workerId: null, ip: req.socket.remoteAddress ?? '', pinned: false };
    return NOT_STICKY;
  };

  const forwardedOf = (req: IncomingMessage) => {
    const peer = req.socket.remoteAddress;
    const trusted = isTrusted(trust, peer);
    const f = forwardedHeaders({
      peer,
      encrypted: (req.socket as TLSSocket).encrypted === true,
      headers: req.headers,
      trusted,
    });
    return { f, trusted };
  };

  const owner: AttemptOwner = {
    // A response that starts before the request body has arrived in full (a worker's 408 for a
    // stalled body, an early 413) closes the connection, as it does in direct mode: what is left
    // of the body would otherwise hold the connection until it came.
    // HTTP/2 has no connection-specific fields (RFC 9113 8.2.2): its session outlives a response.
    connectionHeaders: (ex) =>
      ex.req.httpVersionMajor === 2
        ? NO_HEADERS
        : ex.clientKeepAlive &&
            keepAliveMs > 0 &&
            !handlers.draining &&
            (!ex.hasBody || ex.req.complete)
          ? keepHeaders
          : closeHeaders,
    connected: (attempt) => queue.done(attempt.exchange),
    settle(attempt, err) {
      const { exchange: ex, upstream: u } = attempt;
      pool.release(u);
      queue.done(ex);
      if (ex.current === attempt) ex.current = null;
      // Stopped by the router (the client left, or was answered already): not the upstream's doing.
      if (err === null || attempt.aborted || ex.clientFailed) return;
      const { res, req } = ex;
      if (res.destroyed) return;
      const code = (err as NodeJS.ErrnoException).code ?? null;
      if (code !== null && REFUSED_CODES.has(code)) {
        logger.debug({ err: err.message, url: req.url }, 'bad request from a client');
        refuse(res, 400, 'Bad Request\n');
        return;
      }
      if (code !== null && TIMEOUT_CODES.has(code)) {
        u.errors++;
        sendError(res, 504, { upstream: u.name, code: 'ETIMEDOUT' });
        return;
      }
      // Killed for a blocked loop: a request written to it may be what blocked it, and would block
      // the worker it was retried on too. Not retried, whatever it is; one still queued in the
      // router (never written) is retried as usual.
      if (u.timedOut && attempt.written) {
        u.errors++;
        logger.warn(
          { upstream: u.name, code, url: req.url },
          'upstream killed for blocking its event loop (--timeout): not retried',
        );
        sendError(res, 504, { upstream: u.name, code: 'WORKER_TIMEOUT' });
        return;
      }
      // Retried once; and again whenever the worker was gone (no connection was made, so
      // nothing reached it): a reset connection queued on a killed worker's socket is followed
      // by ENOENT once the master has removed that socket, before the router's list says so.
      const gone = code !== null && GONE_CODES.has(code);
      if (
        (attempt.attempt === 0 || gone) &&
        u.id >= 0 &&
        !ex.hasBody &&
        isRetryable(req.method, req.headers) &&
        !res.headersSent &&
        code !== null &&
        RETRY_CODES.has(code)
      ) {
        u.retries++;
        logger.debug({ upstream: u.name, code }, 'retrying on another worker');
        dispatch(ex, attempt.attempt + 1, u, gone);
        return;
      }
      u.errors++;
      if (!res.headersSent)
        logger.warn({ upstream: u.name, code, url: req.url }, `upstream failed: ${err.message}`);
      sendError(res, 502, { upstream: u.name, code });
    },
  };

  const send = (ex: Exchange, u: Upstream, attempt: number): void => {
    pool.acquire(u);
    const a = new Attempt(owner, ex, u, attempt);
    ex.current = a;
    const { req } = ex;
    u.pool.dispatch(
      {
        path: req.url ?? '/',
        method: req.method as Dispatcher.HttpMethod,
        headers: ex.headers,
        body: ex.hasBody ? req : null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      a,
    );
  };

  const dispatch = (
    ex: Exchange,
    attempt: number,
    avoid: Upstream | null = null,
    avoidGone = false,
  ): void => {
    const sticky = stickyOf(ex.req);
    let u = pool.choose(sticky, avoid);
    // The worker that failed is the only routable one: retry it if it still takes connections (a
    // keep-alive race); if it is gone (refused), wait for the master's next list.
    if (avoidGone && u === avoid) u = null;
    if (!u) {
      if (!queue.wait(ex)) return;
      const { res } = ex;
      void pool
        .waitForWorker(timeoutMs, () => res.destroyed || ex.shed)
        .then((ok) => {
          if (res.destroyed || ex.shed) return;
          if (ok) dispatch(ex, attempt);
          else {
            queue.done(ex);
            sendError(res, 503, { upstream: null, code: null });
          }
        });
      return;
    }
    // Every connection to this worker is busy: the request waits in its undici pool.
    if (u.inflight >= config.workerConnections) {
      if (!queue.wait(ex)) return;
    } else queue.done(ex);
    if (config.sticky === 'cookie' && sticky.workerId !== u.id) ex.setSticky = u.id;
    send(ex, u, attempt);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse, keepAlive: boolean): void => {
    // The --limit-request-* checks count what the client sent (the worker allows the router's
    // own X-Forwarded-*), answered here with a close, as a worker answers them in direct mode.
    const over = checkLimits(req, config);
    if (over !== 0) {
      refuse(res, over, limitText(over));
      return;
    }
    // RFC 9112 3.2: more than one Host is answered 400; a target the router cannot pass on too.
    if (badRequest(req.url ?? '/', req.rawHeaders)) {
      refuse(res, 400, 'Bad Request\n');
      return;
    }
    const { f, trusted } = forwardedOf(req);
    const headers = requestHeaders(req.rawHeaders, req.headers.connection, f, trusted);
    const length = req.headers['content-length'];
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (length !== undefined && length !== '0') ||
      // An HTTP/2 body needs no Content-Length: the stream says whether one follows.
      (req.httpVersionMajor === 2 && h2HasBody(req));
    const ex = new Exchange(req, res, headers, keepAlive, hasBody);
    exchanges.set(res, ex);
    res.once('close', () => ex.current?.abort());
    const route = routes.length > 0 ? matchRoute(config.route, req.url ?? '/') : null;
    if (route) send(ex, routes.find((r) => r.entry === route)!.upstream, 0);
    else dispatch(ex, 0);
  };

  const onWebSocket = (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    const { f, trusted } = forwardedOf(req);
    for (const h of HOP_BY_HOP_WS) delete req.headers[h];
    if (!trusted) {
      delete req.headers.forwarded;
      delete req.headers['x-real-ip'];
    }
    req.headers['x-forwarded-for'] = f.for;
    req.headers['x-forwarded-proto'] = f.proto;
    req.headers['x-forwarded-host'] = f.host;
    const route = routes.length > 0 ? matchRoute(config.route, req.url ?? '/') : null;
    const connect = (u: Upstream): void => {
      pool.acquire(u);
      socket.once('close', () => pool.release(u));
      proxy.ws(req, socket, head, { target: u.target }, (err) => {
        u.errors++;
        logger.debug({ upstream: u.name, err: err.message }, 'websocket proxy error');
        socket.destroy();
      });
    };
    if (route) {
      connect(routes.find((r) => r.entry === route)!.upstream);
      return;
    }
    const tryWorker = (): void => {
      const u = pool.choose(stickyOf(req));
      if (u) {
        connect(u);
        return;
      }
      // No ready worker (booting, or -w 1 between a crash and its respawn): wait like requests.
      void pool
        .waitForWorker(timeoutMs, () => socket.destroyed)
        .then((ok) => {
          if (socket.destroyed) return;
          if (ok) tryWorker();
          else
            socket.end(
              'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
            );
        });
    };
    tryWorker();
  };

  // Garbage, a half request, or a body that breaks its framing (a malformed chunk size): the
  // exchange in progress (if any) is the client's failure, its attempt is stopped, and the
  // client gets Node's own answer if no byte of a response went out yet.
  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex): void => {
    logger.debug({ err: err.message }, 'bad request from a client');
    const res = responseOf(socket);
    const ex = res ? exchanges.get(res) : undefined;
    if (ex) {
      ex.clientFailed = true;
      ex.current?.abort();
    }
    const answer = clientErrorAnswer(err.code, socket);
    if (answer) socket.end(answer);
    else socket.destroy();
  };

  const handlers: RouterHandlers = {
    draining: false,
    queue,
    routes: routes.map((r) => r.upstream),
    onClientError,
    onRequest(req, res) {
      onRequest(req, res, wantsKeepAlive(req));
    },
    onUpgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      if (req.headers.upgrade?.toLowerCase() === 'websocket') {
        onWebSocket(req, socket, head);
        return;
      }
      // Any other protocol (h2c, TLS/1.0...): the Upgrade is ignored, as RFC 9110 7.8 allows, and
      // the request served as plain HTTP/1.1 on a connection that closes after it. Its body (if
      // any) is no longer framed by Node's parser, so such a request is refused instead.
      const length = req.headers['content-length'];
      if (
        req.headers['transfer-encoding'] !== undefined ||
        (length !== undefined && length !== '0')
      ) {
        socket.end(
          'HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      const res = new (nodeRequire('node:http') as typeof import('node:http')).ServerResponse(req);
      res.assignSocket(socket);
      res.once('finish', () => {
        res.detachSocket(socket);
        socket.end();
      });
      onRequest(req, res, false);
    },
  };
  return handlers;
}
