import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { ProxyServer } from 'http-proxy-3';
import type { Config } from '../config/registry.js';
import { matchRoute } from '../config/route.js';
import type { Logger } from '../log/logger.js';
import { isRetryable, STICKY_COOKIE, stickyCookieValue } from './balance.js';
import { forwardedHeaders, isTrusted, trustList } from './forwarded.js';
import { NOT_STICKY, routeUpstream, type Sticky, type Upstream, type WorkerPool } from './pool.js';

/** What the router remembers about a request while it is proxied. */
interface RequestState {
  upstream: Upstream | null;
  /** Whether the client's connection may stay open after this response. */
  clientKeepAlive: boolean;
  /** --sticky cookie: the worker id to set in the tsgun_worker cookie, if it changed. */
  setSticky: number | null;
  timedOut: boolean;
}

/** Connection-level failures: nothing reached the app, or the worker died under the request. */
const RETRY_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE']);
/** The worker is not there at all (stopped or crashed): wait for the master's next list. */
const GONE_CODES = new Set(['ECONNREFUSED', 'ENOENT']);

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade'];

export interface RouterHandlers {
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void;
  readonly routes: readonly Upstream[];
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
 * The router's request path on http-proxy-3: choose a worker (sticky, else least outstanding),
 * proxy over a keep-alive agent, retry an idempotent bodiless request once when the worker could
 * not take it, and answer 502/503/504 with a short JSON body when nothing can.
 */
export function createRouter(config: Config, pool: WorkerPool, logger: Logger): RouterHandlers {
  const proxy = new ProxyServer({ xfwd: false, ws: true });
  const states = new WeakMap<IncomingMessage, RequestState>();
  const trust = trustList(config.forwardedAllowIps);
  const routes = config.route.map((r) => ({ entry: r, upstream: routeUpstream(r.prefix, r.url) }));
  const timeoutMs = config.proxyTimeout * 1000;
  const keepAliveMs = config.keepAlive * 1000;
  const keepAliveHint = `timeout=${Math.max(1, Math.floor(config.keepAlive))}`;

  // Without this listener an upstream error thrown outside a request would crash the router.
  proxy.on('error', (err) => logger.debug({ err: err.message }, 'proxy error'));
  proxy.on('proxyReq', (proxyReq, req) => {
    proxyReq.setTimeout(timeoutMs, () => {
      const state = states.get(req);
      if (state) state.timedOut = true;
      proxyReq.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' }));
    });
  });
  proxy.on('proxyRes', (proxyRes, req) => {
    const state = states.get(req);
    // Hop-by-hop: the worker's connection to the router is not the client's. A worker that is
    // stopping says "close" to the router; the client's connection stays open.
    delete proxyRes.headers['keep-alive'];
    const keep = state?.clientKeepAlive === true && keepAliveMs > 0 && !handlers.draining;
    proxyRes.headers.connection = keep ? 'keep-alive' : 'close';
    if (keep) proxyRes.headers['keep-alive'] = keepAliveHint;
    if (state?.setSticky != null) {
      const cookie = `${STICKY_COOKIE}=${state.setSticky}; Path=/; HttpOnly; SameSite=Lax`;
      const prior = proxyRes.headers['set-cookie'] ?? [];
      proxyRes.headers['set-cookie'] = [...prior, cookie];
    }
  });

  const stickyOf = (req: IncomingMessage): Sticky => {
    if (config.sticky === 'cookie')
      return { workerId: stickyCookieValue(req.headers.cookie), ip: null };
    if (config.sticky === 'ip') return { workerId: null, ip: req.socket.remoteAddress ?? '' };
    return NOT_STICKY;
  };

  const setForwarded = (req: IncomingMessage): void => {
    const f = forwardedHeaders({
      peer: req.socket.remoteAddress,
      encrypted: (req.socket as TLSSocket).encrypted === true,
      headers: req.headers,
      trusted: isTrusted(trust, req.socket.remoteAddress),
    });
    req.headers['x-forwarded-for'] = f.for;
    req.headers['x-forwarded-proto'] = f.proto;
    req.headers['x-forwarded-host'] = f.host;
  };

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    state: RequestState,
    u: Upstream,
    attempt: number,
    retryable: boolean,
  ): void => {
    pool.acquire(u);
    state.upstream = u;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      pool.release(u);
    };
    res.once('close', release);
    proxy.web(
      req,
      res,
      {
        target: u.target,
        agent: u.agent,
        // A retry: the request (bodiless) has been read already; send it with an empty body.
        ...(attempt > 0 ? { buffer: Readable.from([]) } : {}),
      },
      (err) => {
        release();
        const code = (err as NodeJS.ErrnoException).code ?? null;
        if (state.timedOut) {
          u.errors++;
          sendError(res, 504, { upstream: u.name, code });
          return;
        }
        // Retried once; and again whenever the worker was gone (no connection was made, so
        // nothing reached it): a reset connection queued on a killed worker's socket is followed
        // by ENOENT once the master has removed that socket, before the router's list says so.
        const gone = code !== null && GONE_CODES.has(code);
        if (
          (attempt === 0 || gone) &&
          retryable &&
          !res.headersSent &&
          !res.destroyed &&
          code !== null &&
          RETRY_CODES.has(code)
        ) {
          u.retries++;
          logger.debug({ upstream: u.name, code }, 'retrying on another worker');
          dispatch(req, res, state, attempt + 1, retryable, u, gone);
          return;
        }
        u.errors++;
        if (!res.headersSent)
          logger.warn({ upstream: u.name, code, url: req.url }, `upstream failed: ${err.message}`);
        sendError(res, 502, { upstream: u.name, code });
      },
    );
  };

  const dispatch = (
    req: IncomingMessage,
    res: ServerResponse,
    state: RequestState,
    attempt: number,
    retryable: boolean,
    avoid: Upstream | null = null,
    avoidGone = false,
  ): void => {
    const sticky = stickyOf(req);
    let u = pool.choose(sticky, avoid);
    // The worker that failed is the only routable one: retry it if it still takes connections (a
    // keep-alive race); if it is gone (refused), wait for the master's next list.
    if (avoidGone && u === avoid) u = null;
    if (!u) {
      void pool
        .waitForWorker(timeoutMs, () => res.destroyed)
        .then((ok) => {
          if (res.destroyed) return;
          if (ok) dispatch(req, res, state, attempt, retryable);
          else sendError(res, 503, { upstream: null, code: null });
        });
      return;
    }
    if (config.sticky === 'cookie' && sticky.workerId !== u.id) state.setSticky = u.id;
    send(req, res, state, u, attempt, retryable);
  };

  const handlers: RouterHandlers = {
    draining: false,
    routes: routes.map((r) => r.upstream),
    onRequest(req, res) {
      const state: RequestState = {
        upstream: null,
        clientKeepAlive: wantsKeepAlive(req),
        setSticky: null,
        timedOut: false,
      };
      states.set(req, state);
      for (const h of HOP_BY_HOP) delete req.headers[h];
      setForwarded(req);
      const route = routes.length > 0 ? matchRoute(config.route, req.url ?? '/') : null;
      if (route) {
        const u = routes.find((r) => r.entry === route)!.upstream;
        send(req, res, state, u, 0, false);
        return;
      }
      dispatch(req, res, state, 0, isRetryable(req.method, req.headers));
    },
    onUpgrade(req, socket, head) {
      setForwarded(req);
      socket.on('error', () => socket.destroy());
      const route = routes.length > 0 ? matchRoute(config.route, req.url ?? '/') : null;
      const u = route
        ? routes.find((r) => r.entry === route)!.upstream
        : pool.choose(stickyOf(req));
      if (!u) {
        socket.end(
          'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
      pool.acquire(u);
      socket.once('close', () => pool.release(u));
      proxy.ws(req, socket, head, { target: u.target }, (err) => {
        u.errors++;
        logger.debug({ upstream: u.name, err: err.message }, 'websocket proxy error');
        socket.destroy();
      });
    },
  };
  return handlers;
}
