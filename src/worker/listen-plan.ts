/**
 * Pure decisions for apps that call `listen()` themselves (`app.listen(process.env.PORT || 3000)`,
 * `fastify.listen({ port })`, `server.listen(cb)`): what a call asked for, and what tsgun does
 * with it. No I/O here; listen-capture.ts carries the decision out.
 */

/** What one `listen(...)` call asked for, read the way Node's own argument parsing reads it. */
export type ListenRequest =
  | { readonly kind: 'tcp'; readonly host: string | null; readonly port: number }
  | { readonly kind: 'path'; readonly path: string }
  /** listen({ fd }) or listen(handle): the app brings its own descriptor. */
  | { readonly kind: 'handle' };

export interface ParsedListen {
  readonly request: ListenRequest;
  readonly callback: (() => void) | null;
}

const isPortLike = (v: unknown): boolean =>
  typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && /^\d+$/.test(v.trim()));

const toPort = (v: unknown): number => (isPortLike(v) ? Number(v) : 0);

/**
 * `listen()`, `listen(cb)`, `listen(port[, host][, backlog][, cb])`, `listen(path[, backlog][, cb])`,
 * `listen(options[, cb])` and `listen(handle[, backlog][, cb])`, as Node's net.Server accepts them.
 * The callback is the last argument when it is a function.
 */
export function parseListenArgs(args: readonly unknown[]): ParsedListen {
  const last = args[args.length - 1];
  const callback = typeof last === 'function' ? (last as () => void) : null;
  const first = args[0];
  if (first === undefined || first === null || typeof first === 'function')
    return { request: { kind: 'tcp', host: null, port: 0 }, callback };
  if (isPortLike(first)) {
    const host = typeof args[1] === 'string' ? args[1] : null;
    return { request: { kind: 'tcp', host, port: toPort(first) }, callback };
  }
  if (typeof first === 'string') return { request: { kind: 'path', path: first }, callback };
  if (typeof first === 'object') {
    const o = first as Record<string, unknown>;
    if (typeof o['path'] === 'string')
      return { request: { kind: 'path', path: o['path'] }, callback };
    if (o['port'] !== undefined || o['host'] !== undefined)
      return {
        request: {
          kind: 'tcp',
          host: typeof o['host'] === 'string' ? o['host'] : null,
          port: toPort(o['port']),
        },
        callback,
      };
    if (o['fd'] !== undefined || o['_handle'] !== undefined || 'fd' in o)
      return { request: { kind: 'handle' }, callback };
    // listen({}) or listen({ backlog }): Node listens on a random port, like listen().
    return { request: { kind: 'tcp', host: null, port: 0 }, callback };
  }
  return { request: { kind: 'tcp', host: null, port: 0 }, callback };
}

/** What tsgun knows when the app calls listen(). */
export interface ListenState {
  /** The app's first server (served on tsgun's sockets): the port it asked for, else null. */
  readonly main: { readonly port: number } | null;
  /** The worker already serves an exported app: every listen() is an extra. */
  readonly exportForm: boolean;
  /** Every TCP address asked for so far, as `host|port` (host '' = any). */
  readonly seen: readonly string[];
  /** Ports tsgun bound (the real ones, as far as the worker knows them). */
  readonly boundPorts: readonly number[];
  /** The call is on a server that already listens (here or on tsgun's sockets). */
  readonly serverListening: boolean;
}

export type ListenDecision =
  /** The app's server: served from every socket the master bound. */
  | { readonly kind: 'main' }
  /** The same port on another host (Fastify's `localhost` = 127.0.0.1 and ::1): already served. */
  | { readonly kind: 'alias' }
  /** An address tsgun did not bind (a metrics port): Node listens for real, in this worker only. */
  | { readonly kind: 'pass' }
  | { readonly kind: 'refuse'; readonly message: string };

export const addressKey = (host: string | null, port: number): string => `${host ?? ''}|${port}`;

const describe = (r: ListenRequest): string =>
  r.kind === 'tcp'
    ? `listen(${r.host ? `${r.host}:` : ''}${r.port === 0 ? 'no port' : r.port})`
    : r.kind === 'path'
      ? `listen("${r.path}")`
      : 'listen(fd)';

/**
 * The app's first TCP listen() is its server: tsgun serves it from the sockets `--bind` made,
 * whatever port it named (tsgun's bind decides, as with Gunicorn). A later listen on the same
 * port and another host is an alias; on a port tsgun did not bind it is passed to Node (one
 * worker gets it, see listen-capture.ts); twice on one address, on a port tsgun bound for the
 * first server, or on a unix path, it is refused with one line.
 */
export function decideListen(state: ListenState, request: ListenRequest): ListenDecision {
  const what = describe(request);
  if (request.kind === 'path')
    return {
      kind: 'refuse',
      message: `the app calls ${what} on a unix socket path: bind it with --bind unix:${request.path} and call listen() with no port (or $PORT) instead`,
    };
  if (request.kind === 'handle') return { kind: 'pass' };
  if (state.serverListening)
    return { kind: 'refuse', message: `the app calls ${what} on a server that already listens` };
  const key = addressKey(request.host, request.port);
  if (request.port !== 0 && state.seen.includes(key))
    return {
      kind: 'refuse',
      message: `the app calls ${what} twice on the same address (Node would fail with EADDRINUSE)`,
    };
  if (!state.main && !state.exportForm) return { kind: 'main' };
  // The port it asked for, or the one it was given (the first bound, which address() tells).
  const mainPorts = state.main ? [state.main.port, state.boundPorts[0]] : [];
  if (request.port !== 0 && mainPorts.includes(request.port)) return { kind: 'alias' };
  if (request.port !== 0 && state.boundPorts.includes(request.port))
    return {
      kind: 'refuse',
      message: `the app calls ${what}, a port tsgun binds: every socket tsgun binds serves the app's ${state.exportForm ? 'exported app' : 'first server'}; listen on a port tsgun does not bind for a second server`,
    };
  return { kind: 'pass' };
}
