import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/registry.js';
import { ROUTER_ENTRY, WORKER_ENTRY } from '../../entry-points.js';
import { WORKER_ENV } from '../../ipc/protocol.js';
import { childFallbacks } from '../../platform/checks.js';
import { adoptChild } from '../host/own-children.js';
import { type Credentials, runAsEnv } from '../host/user.js';
import type { BoundSocket } from '../sockets/sockets.js';
import { boundChannel, refuseHandles } from './channel-guard.js';
import { takeSpare } from './spare.js';

/**
 * A fork either gave a live child with a real pid, or failed: synchronously (fork threw) or with
 * no pid and an 'error' event to come (EAGAIN, EMFILE, ENOENT). A failed fork has no pid at all,
 * so nothing can ever signal it.
 */
export type Forked =
  | {
      readonly ok: true;
      readonly child: ChildProcess;
      readonly pid: number;
      /** Whether the spare (spare.ts) became this worker, and if not why; absent: no spare. */
      readonly spare?: string;
    }
  | { readonly ok: false; readonly error: Promise<Error> };

/**
 * Fork one worker. Each listening socket is inherited as an fd (from FIRST_LISTEN_FD on, in bind
 * order): the worker listens on the master's own socket, and nothing passes through the master.
 */
export function forkWorker(opts: {
  id: number;
  /** Stable 0..w-1 (plan.ts pickWorkerIndex): PM2 apps read it as NODE_APP_INSTANCE. */
  index: number;
  config: Config;
  sockets: readonly BoundSocket[];
  check?: boolean;
  credentials?: Credentials | null;
  /** False when the master binds on demand: the app's own default port applies, not $PORT. */
  portEnv?: boolean;
}): Forked {
  const env = childEnv();
  // Only a spare waits for a boot message; one in the operator's environment would hang workers.
  env[WORKER_ENV.spare] = undefined;
  for (const [key, value] of opts.config.env) env[key] = value;
  env[WORKER_ENV.id] = String(opts.id);
  env['TSGUN_WORKER_INDEX'] = String(opts.index);
  env['NODE_APP_INSTANCE'] = String(opts.index);
  // `app.listen(process.env.PORT || 3000)` then names the port the app is served on.
  const port = opts.portEnv === false ? null : firstTcpPort(opts.sockets);
  if (port !== null) env['PORT'] = String(port);
  env[WORKER_ENV.config] = JSON.stringify(opts.config);
  if (opts.check) env[WORKER_ENV.check] = '1';
  env[WORKER_ENV.fallbacks] = childFallbacks();
  return forkClusterWorker(env, opts.sockets, opts.credentials);
}

/**
 * Workers are `cluster` workers, so an app written for cluster sees `cluster.isWorker` and runs
 * its worker branch; the sockets are still the master's, inherited as fds exactly as with
 * `fork` (cluster passes `stdio` through), and workers listen on them locally
 * (child/listen-local.ts), never through the primary's round-robin.
 */
function forkClusterWorker(
  env: NodeJS.ProcessEnv,
  sockets: readonly BoundSocket[],
  credentials: Credentials | null | undefined,
): Forked {
  const spare = takeSpare(env, sockets, credentials != null);
  const forked = started(() => {
    if (spare?.child) return spare.child;
    // Settings are read at each fork: the stdio (a slot's sockets) may differ per worker.
    cluster.setupPrimary({
      exec: fileURLToPath(WORKER_ENTRY),
      args: [],
      ...childOptions(sockets),
    });
    // --user/--group: the child switches itself (child/drop-privileges.ts) so that it keeps the
    // user's supplementary groups, which spawn's uid/gid options would clear.
    const worker = cluster.fork({ ...env, ...runAsEnv(credentials) });
    // cluster re-emits the process's 'error' on the worker; the table listens on the process.
    worker.on('error', () => {});
    return worker.process;
  });
  return forked.ok && spare ? { ...forked, spare: spare.used } : forked;
}

/** Start a child; a fork that threw or got no pid is a failure, never a child to signal. */
function started(start: () => ChildProcess): Forked {
  let child: ChildProcess;
  try {
    child = start();
  } catch (err) {
    return { ok: false, error: Promise.resolve(err as Error) };
  }
  const pid = adoptChild(child);
  if (pid !== null) {
    // Before the channel is first read: no line of it reaches Node's parser unbounded.
    boundChannel(child);
    refuseHandles(child);
    return { ok: true, child, pid };
  }
  // Node reports this fork's failure on the next tick, as an 'error' event.
  return {
    ok: false,
    error: new Promise((resolve) => child.once('error', resolve)),
  };
}

/** Sockets as fds from FIRST_LISTEN_FD on (0-2 stdio, 3 IPC), JSON IPC. */
function childOptions(sockets: readonly BoundSocket[]): {
  stdio: (number | 'ipc' | 'ignore' | 'inherit')[];
  serialization: 'json';
} {
  return {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...sockets.map((s) => s.handle.fd)],
    serialization: 'json',
  };
}

/** The real port of the first TCP socket (port 0 was resolved at bind), else null. */
function firstTcpPort(sockets: readonly BoundSocket[]): number | null {
  for (const s of sockets) {
    if (s.address.kind === 'unix') continue;
    const out: Record<string, unknown> = {};
    if (s.handle.getsockname?.(out) === 0 && typeof out['port'] === 'number') return out['port'];
  }
  return null;
}

/**
 * The environment of a process the master starts (worker, router, cron command): the master's,
 * without systemd's socket, which is the master's to notify on (and a new master's after USR2).
 * Undefined, not deleted: cluster.fork merges the environment it is given over process.env, and
 * every spawn leaves an undefined variable out.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NOTIFY_SOCKET: undefined, ...extra };
}

/** A plain fork (the router), with the same descriptors and options as a worker. */
function forkChild(
  entry: URL,
  env: NodeJS.ProcessEnv,
  sockets: readonly BoundSocket[],
  credentials: Credentials | null | undefined,
): Forked {
  return started(() =>
    fork(entry, [], { ...childOptions(sockets), env: { ...env, ...runAsEnv(credentials) } }),
  );
}

/** Fork the router of --router mode: it inherits the public sockets the way a worker would. */
export function forkRouter(opts: {
  config: Config;
  sockets: readonly BoundSocket[];
  credentials?: Credentials | null;
}): Forked {
  const env = childEnv({
    [WORKER_ENV.config]: JSON.stringify(opts.config),
    [WORKER_ENV.fallbacks]: childFallbacks(),
  });
  return forkChild(ROUTER_ENTRY, env, opts.sockets, opts.credentials);
}
