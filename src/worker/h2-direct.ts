import type { Server as HttpServer, RequestListener } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { type H2Front, h2Front } from '../child/h2-front.js';
import type { Config } from '../config/registry.js';
import { ErrorCode, TsgunError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { AppTarget } from './app-forms.js';

/**
 * --http2 in direct mode: the app runs on Node's HTTP/2 compatibility API (Http2ServerRequest and
 * Http2ServerResponse). Plain request listeners, Koa, fetch apps and an http.Server's own request
 * listeners only use what that API has; Express and Fastify do not (below), and are refused at
 * start rather than failing on the first request.
 */

/** What an app is, as far as HTTP/2 in direct mode is concerned. */
export type H2Form =
  | { readonly kind: 'fine'; readonly form: string }
  | { readonly kind: 'express' | 'fastify'; readonly form: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  (v !== null && typeof v === 'object') || typeof v === 'function';

/**
 * Express (4 and 5) sets its own request and response prototypes, which inherit from
 * http.IncomingMessage and http.ServerResponse, over the objects it is given: an
 * Http2ServerResponse then loses its own methods. Recognised by shape: an app function with
 * set() and engine() (Connect has neither).
 */
export function isExpressApp(fn: unknown): boolean {
  return (
    typeof fn === 'function' &&
    isObject(fn) &&
    typeof fn['set'] === 'function' &&
    typeof fn['engine'] === 'function' &&
    typeof fn['handle'] === 'function'
  );
}

/**
 * Fastify's request listener on its own http.Server: it is named preRouting (fastify.js), and
 * Fastify serves HTTP/2 only from a server it made with its own `http2: true` option.
 */
export function isFastifyListener(fn: unknown): boolean {
  return typeof fn === 'function' && fn.name === 'preRouting';
}

/** Pure (it only reads the target): which form the app is, for HTTP/2 in direct mode. */
export function h2FormOf(target: AppTarget): H2Form {
  switch (target.kind) {
    case 'fetch':
      return { kind: 'fine', form: 'an object with fetch()' };
    case 'listener':
      return isExpressApp(target.listener)
        ? { kind: 'express', form: 'an Express app' }
        : { kind: 'fine', form: 'a request listener' };
    case 'server': {
      const listeners = target.server.listeners('request');
      if (listeners.some(isExpressApp))
        return { kind: 'express', form: 'an http.Server serving an Express app' };
      if (listeners.some(isFastifyListener)) return { kind: 'fastify', form: 'a Fastify instance' };
      return { kind: 'fine', form: 'an http.Server' };
    }
  }
}

/** Pure: the one-line refusal for an app form that cannot run on HTTP/2 in direct mode, or null. */
export function h2DirectRefusal(form: H2Form): string | null {
  if (form.kind === 'fine') return null;
  const why =
    form.kind === 'express'
      ? "Express's request and response are HTTP/1.1 only"
      : 'Fastify serves HTTP/2 only from its own http2 server';
  return `--http2: ${form.form} cannot run on Node's HTTP/2 compatibility API (${why}): add --router, which serves HTTP/2 to clients and HTTP/1.1 to the app`;
}

/** Refuse, as a boot failure, an app form that cannot take --http2 in direct mode. */
export function checkH2Form(target: AppTarget): void {
  const refusal = h2DirectRefusal(h2FormOf(target));
  if (refusal !== null) throw new TsgunError(ErrorCode.APP_HTTP2, refusal);
}

/**
 * The worker's HTTP/2 front: h2c prior knowledge from --forwarded-allow-ips peers (ALPN h2 with
 * TLS), every request emitted on the app's HTTP/1.1 server, so that tsgun's request step
 * (request-gate.ts) and the app's listeners serve it as they serve HTTP/1.1.
 */
export function directH2(config: Config, http1: HttpServer | NetServer, logger: Logger): H2Front {
  const onRequest: RequestListener = (req, res) => http1.emit('request', req, res);
  return h2Front({
    http1,
    allowFrom: config.forwardedAllowIps,
    onRequest,
    // A session's timeout also ends the streams in it: no shorter than a request may take.
    idleMs: Math.max(config.keepAlive, config.requestTimeout, config.timeout) * 1000,
    logger,
  });
}
