import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { BindAddress } from '../config/address.js';
import { type AppSpec, findModule } from '../config/app-spec.js';
import type { WantedAddress } from '../config/on-demand.js';
import { ErrorCode, TsgunError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { isOwnListener } from '../platform/accepted-sockets.js';
import { nativeListen, replaceServerListen } from '../platform/listen-patch.js';
import type { AppJob } from './jobs.js';
import { addressKey, decideListen, parseListenArgs } from './listen-plan.js';
import { type AppTarget, loadApp } from './load-app.js';
import { listenPassThrough, type PassBusyReport } from './pass-through.js';

/**
 * Apps that call `listen()` themselves, served from the master's sockets. Before the app is
 * imported, `net.Server.prototype.listen` is replaced (platform/listen-patch.ts): the app's
 * first listen() makes its server the one tsgun's Acceptor feeds, exactly like an exported
 * server; the server then looks listening to the app (`listening`, `address()`, the callback and
 * 'listening', `close()`), though the worker's own listeners hold the inherited fds. Decisions
 * are in listen-plan.ts.
 */

export interface ListenCaptureOptions {
  readonly logger: Logger;
  /** The ports tsgun bound, as far as the worker knows them ($PORT first). */
  readonly boundPorts: readonly number[];
  /** The app's listen() on a port tsgun did not bind is failing with EADDRINUSE: tell the master. */
  readonly busy: (report: PassBusyReport) => void;
  /** A listen() tsgun refuses: the worker reports it and exits. */
  readonly refuse: (err: TsgunError) => void;
  /** No bind configured: the master binds what the first listen() asks for (mainAddress). */
  readonly onDemand?: boolean;
}

type CloseCallback = (err?: Error) => void;

export class ListenCapture {
  main: NetServer | null = null;
  private exportForm = false;
  private readonly seen: string[] = [];
  private readonly aliases: NetServer[] = [];
  private address: AddressInfo | string | null = null;
  private served = false;
  private mainWaiters: ((server: NetServer) => void)[] = [];
  private mainRequest: WantedAddress | null = null;
  /** Set once the worker accepts: the connections the app's server has, and how to stop them. */
  private connections: () => Iterable<Socket> = () => [];
  private onAppClose: () => void = () => {};

  constructor(private readonly opts: ListenCaptureOptions) {
    replaceServerListen((server, args) =>
      isOwnListener(server)
        ? (Reflect.apply(nativeListen, server, args) as NetServer)
        : this.onListen(server, args),
    );
  }

  /** The worker serves an exported app: any listen() from now on is an extra server. */
  exportFormChosen(): void {
    this.exportForm = true;
  }

  /** What the app's first server asked for (a TCP listen()), or null (none, or export form). */
  mainAddress(): WantedAddress | null {
    return this.mainRequest;
  }

  /** Resolves with the app's first listened server, whenever the app calls listen(). */
  mainListened(): Promise<NetServer> {
    if (this.main) return Promise.resolve(this.main);
    return new Promise((resolve) => this.mainWaiters.push(resolve));
  }

  /**
   * The worker accepts on the inherited sockets: the app's server now tells this address; the
   * worker emits the main server's 'listening' itself, aliases get theirs here.
   */
  serving(
    address: AddressInfo | string | null,
    connections: () => Iterable<Socket>,
    onAppClose: () => void,
  ): void {
    this.address = address;
    this.connections = connections;
    this.onAppClose = onAppClose;
    this.served = true;
    for (const alias of this.aliases.splice(0)) process.nextTick(() => alias.emit('listening'));
  }

  private onListen(server: NetServer, args: unknown[]): NetServer {
    const { request, callback } = parseListenArgs(args);
    const decision = decideListen(
      {
        main: this.main ? { port: this.portOf(this.main) } : null,
        exportForm: this.exportForm,
        seen: this.seen,
        boundPorts: this.opts.boundPorts,
        serverListening: server.listening,
      },
      request,
    );
    if (decision.kind === 'refuse') {
      this.opts.refuse(new TsgunError(ErrorCode.APP_LISTEN, decision.message));
      return server;
    }
    if (request.kind === 'tcp') this.seen.push(addressKey(request.host, request.port));
    if (callback) server.once('listening', callback);
    if (decision.kind === 'pass') {
      listenPassThrough(server, args, request, {
        logger: this.opts.logger,
        busy: this.opts.busy,
        nativeListen,
      });
      return server;
    }
    this.serveVirtually(server, decision.kind === 'main');
    requested.set(server, request.kind === 'tcp' ? request.port : 0);
    if (decision.kind === 'main') {
      this.main = server;
      if (request.kind === 'tcp') this.mainRequest = { host: request.host, port: request.port };
      const target = this.opts.boundPorts[0];
      const elsewhere = !this.opts.onDemand || target !== undefined;
      if (elsewhere && request.kind === 'tcp' && request.port !== 0 && request.port !== target)
        this.opts.logger.info(
          { requestedPort: request.port, port: target ?? null },
          `the app listens on port ${request.port}; tsgun serves it on the sockets it bound (--bind)`,
        );
      for (const resolve of this.mainWaiters.splice(0)) resolve(server);
    } else if (this.served) {
      process.nextTick(() => server.emit('listening'));
    } else {
      this.aliases.push(server);
    }
    return server;
  }

  private portOf(server: NetServer): number {
    return requested.get(server) ?? 0;
  }

  /** The app's view of a server served from tsgun's sockets. */
  private serveVirtually(server: NetServer, isMain: boolean): void {
    let open = true;
    Object.defineProperty(server, 'listening', { configurable: true, get: () => open });
    server.address = () => this.address;
    server.close = ((cb?: CloseCallback) => {
      if (!open) {
        if (cb) process.nextTick(cb, notRunning());
        return server;
      }
      open = false;
      if (cb) server.once('close', cb);
      if (isMain) this.onAppClose();
      (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
      const pending = isMain ? [...this.connections()].filter((s) => !s.destroyed) : [];
      let left = pending.length;
      const closed = () => process.nextTick(() => server.emit('close'));
      if (left === 0) closed();
      for (const socket of pending)
        socket.once('close', () => {
          if (--left === 0) closed();
        });
      return server;
    }) as NetServer['close'];
  }
}

/** The ports tsgun bound: $PORT (the master sets it to the first bound port), then the rest. */
export function workerBoundPorts(bind: readonly BindAddress[]): number[] {
  const first = Number(process.env['PORT']);
  const ports = bind.flatMap((a) => (a.kind === 'tcp' && a.port !== 0 ? [a.port] : []));
  return Number.isInteger(first) && first > 0
    ? [first, ...ports.filter((p) => p !== first)]
    : ports;
}

/** A module that exports nothing may call listen() until shortly before --ready-timeout. */
export const listenWaitMs = (readyTimeoutSeconds: number): number =>
  Math.max(readyTimeoutSeconds * 900, readyTimeoutSeconds * 1000 - 1000);

/** The port each virtually served server asked for. */
const requested = new WeakMap<NetServer, number>();

function notRunning(): Error {
  return Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' });
}

/** A module with no exports at all (an ESM file with none, CommonJS leaving `module.exports` empty). */
async function exportsNothing(spec: AppSpec): Promise<boolean> {
  const mod = (await import(pathToFileURL(findModule(spec.module)).href)) as Record<
    string,
    unknown
  >;
  const named = Object.keys(mod).filter((k) => k !== 'default' && k !== 'module.exports');
  const d = mod['default'];
  const emptyDefault =
    d === undefined ||
    (d !== null &&
      typeof d === 'object' &&
      Object.getPrototypeOf(d) === Object.prototype &&
      Object.keys(d).length === 0);
  return named.length === 0 && emptyDefault;
}

function isExportError(err: unknown): boolean {
  return (
    err instanceof TsgunError &&
    (err.code === ErrorCode.APP_EXPORT_MISSING || err.code === ErrorCode.APP_EXPORT_TYPE)
  );
}

type Loaded = { target: AppTarget; jobs: AppJob[] };
type Outcome =
  | { readonly kind: 'loaded'; readonly loaded: Loaded }
  | { readonly kind: 'failed'; readonly err: unknown }
  | { readonly kind: 'listened'; readonly server: NetServer }
  | { readonly kind: 'timeout' };

/** Resolves on the next turn of the event loop: promise jobs queued before it have all run. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Load the app in either form. A server the app listened on wins (an app that exports its
 * Express app and calls app.listen() is served by the server it made); else the export form;
 * a module that exports nothing at all is given until `waitMs` to call listen() (after
 * connecting to its database, say).
 *
 * The import and the app's first listen() race: an ES module may await its own listen()
 * (`await fastify.listen()`, `await once(server, 'listening')`), and that completes only once the
 * worker serves, so the worker must serve before the import has finished. A listen() made while
 * the module's code runs synchronously still waits for the import (one turn of the loop), so its
 * exports (jobs) are read as before.
 */
export async function loadAppOrListen(
  spec: AppSpec,
  capture: ListenCapture,
  waitMs: number,
  logger: Logger,
): Promise<Loaded> {
  const importing: Promise<Outcome> = loadApp(spec).then(
    (loaded) => ({ kind: 'loaded', loaded }),
    (err: unknown) => ({ kind: 'failed', err }),
  );
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), waitMs);
  });
  const listened = capture.mainListened().then((server): Outcome => ({ kind: 'listened', server }));
  let first = await Promise.race([importing, listened, deadline]);
  if (first.kind === 'listened')
    first = await Promise.race([importing, nextTurn().then(() => first)]);
  clearTimeout(timer);
  const served = (server: NetServer, jobs: AppJob[]): Loaded => ({
    target: { kind: 'server', server },
    jobs,
  });
  switch (first.kind) {
    case 'listened':
      // The module is still loading (awaiting its own listen, or more): serve now.
      void importing.then((late) => lateImport(late, spec, logger));
      return served(first.server, []);
    case 'timeout':
      throw new TsgunError(
        ErrorCode.APP_NO_LISTEN,
        `${spec.module} did not call listen() within ${(waitMs / 1000).toFixed(1)} s (the worker gives up just before --ready-timeout) and its module is still loading (a top-level await that has not settled)`,
      );
    case 'loaded':
      if (capture.main) return served(capture.main, first.loaded.jobs);
      capture.exportFormChosen();
      return first.loaded;
    case 'failed':
      if (capture.main) return served(capture.main, []);
      return listenLater(first.err, spec, capture, waitMs, logger);
  }
}

/**
 * The import of an app that is served already settles: its module throwing ends the worker, as
 * it ends `node app.mjs`; exporting nothing to serve is what such an app does.
 */
function lateImport(late: Outcome, spec: AppSpec, logger: Logger): void {
  if (late.kind === 'failed' && !isExportError(late.err)) {
    const err = late.err;
    logger.error(
      { err: err instanceof Error ? err.message : String(err) },
      `${spec.module} failed after it called listen(): ${err instanceof Error ? err.message : String(err)}`,
    );
    process.exit(1);
  }
  if (late.kind === 'loaded' && late.loaded.jobs.length > 0)
    logger.warn(
      { module: spec.module },
      `the jobs ${spec.module} exports are not scheduled: its module finished loading after it listened (export them before the top-level await)`,
    );
}

/** A module that exports nothing at all may still call listen() (after its database, say). */
async function listenLater(
  failure: unknown,
  spec: AppSpec,
  capture: ListenCapture,
  waitMs: number,
  logger: Logger,
): Promise<Loaded> {
  const mayListenLater =
    isExportError(failure) &&
    spec.exportName === null &&
    !spec.call &&
    (await exportsNothing(spec));
  if (!mayListenLater) throw failure;
  logger.info(
    { waitMs },
    `${spec.module} exports nothing: waiting for it to call listen() (up to --ready-timeout)`,
  );
  let timer: NodeJS.Timeout | undefined;
  const server = await Promise.race([
    capture.mainListened(),
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), waitMs);
    }),
  ]);
  clearTimeout(timer);
  if (server) return { target: { kind: 'server', server }, jobs: [] };
  throw new TsgunError(
    ErrorCode.APP_NO_LISTEN,
    `${spec.module} exports nothing to serve and did not call listen() in ${(waitMs / 1000).toFixed(1)} s (the worker gives up just before --ready-timeout)`,
  );
}
