import type { RequestListener } from 'node:http';
import { Server as NetServer } from 'node:net';
import { ErrorCode, TsgunError } from '../errors.js';

export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/** What a worker serves, once a factory has been called and a framework's app unwrapped. */
export type AppTarget =
  | { readonly kind: 'listener'; readonly listener: RequestListener }
  | { readonly kind: 'server'; readonly server: NetServer }
  | { readonly kind: 'fetch'; readonly app: FetchApp };

/**
 * The app forms tsgun recognises, by shape rather than by importing any framework: a request
 * listener (Express, Connect), an http.Server, a Fastify instance, a Koa app, an object with
 * fetch() (Hono and other WHATWG-style apps).
 */
export interface Recognised {
  /** What it looked like, for the log: "a Fastify instance". */
  readonly form: string;
  /** The target to serve; async because a Fastify instance must finish loading its plugins. */
  target(label: string): Promise<AppTarget>;
}

interface FastifyLike {
  ready(): PromiseLike<unknown>;
  server: NetServer;
}
interface KoaLike {
  callback(): RequestListener;
  use(fn: unknown): unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

function isFastify(v: unknown): v is FastifyLike {
  return isObject(v) && typeof v['ready'] === 'function' && v['server'] instanceof NetServer;
}

function isKoa(v: unknown): v is KoaLike {
  return isObject(v) && typeof v['callback'] === 'function' && typeof v['use'] === 'function';
}

function isFetchApp(v: unknown): v is FetchApp {
  return isObject(v) && typeof v['fetch'] === 'function';
}

function notListening(server: NetServer, label: string): NetServer {
  if (server.listening) {
    throw new TsgunError(
      ErrorCode.APP_EXPORT_TYPE,
      `${label} is a server that is already listening: export it without calling listen()`,
    );
  }
  return server;
}

export function recognise(value: unknown): Recognised | null {
  if (value instanceof NetServer) {
    return {
      form: 'an http.Server',
      target: async (label) => ({ kind: 'server', server: notListening(value, label) }),
    };
  }
  if (isFastify(value)) {
    return {
      form: 'a Fastify instance',
      // ready() loads the plugins and routes; the instance's own server then serves them.
      target: async (label) => {
        await value.ready();
        return { kind: 'server', server: notListening(value.server, label) };
      },
    };
  }
  if (isKoa(value)) {
    return {
      form: 'a Koa app',
      target: async () => ({ kind: 'listener', listener: value.callback() }),
    };
  }
  if (isFetchApp(value)) {
    return { form: 'an object with fetch()', target: async () => ({ kind: 'fetch', app: value }) };
  }
  if (typeof value === 'function') {
    return {
      form: 'a request listener',
      target: async () => ({ kind: 'listener', listener: value as RequestListener }),
    };
  }
  return null;
}

/** A few names, then how many more: an error is one line, not a dump of a module's keys. */
export function someNames(names: readonly string[], max = 5): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** "a number (42)", "an object with keys a, b, c, d, e and 995 more", "a Promise". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') {
    if (typeof (value as PromiseLike<unknown>).then === 'function') return 'a Promise';
    const name = value.constructor?.name;
    const what = name && name !== 'Object' ? `a ${name} object` : 'an object';
    return `${what} with keys ${someNames(Object.keys(value))}`;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  return `a ${typeof value} (${shown})`;
}

/**
 * Which APP to write instead, from the module's other exports: one that is an app as it is
 * (`module:name`), or a function taking no arguments, which is a factory (`module:name()`).
 */
export function suggestExport(module: string, exports: Readonly<Record<string, unknown>>): string {
  const names = Object.keys(exports).filter((n) => n !== 'default' && n !== 'module.exports');
  const factory = names.find(
    (n) => typeof exports[n] === 'function' && (exports[n] as () => unknown).length === 0,
  );
  if (factory) return `write ${module}:${factory}() to call the factory ${factory}`;
  const app = names.find((n) => recognise(exports[n]) !== null);
  if (app) return `write ${module}:${app} to serve the export ${app}`;
  return `export a request listener, an http.Server, a Fastify, Koa, Express or Hono app, or an object with fetch(), or write ${module}:name() to call a factory`;
}
