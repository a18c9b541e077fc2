import type { ChildProcess } from 'node:child_process';
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { WORKER_ENTRY } from '../../entry-points.js';
import { MASTER_OWNED_ENV, masterMessage, UPGRADE_ENV, WORKER_ENV } from '../../ipc/protocol.js';
import { receiveFromWorker } from '../../ipc/receive.js';
import { adoptChild, signalChild } from '../host/own-children.js';

/**
 * The spare worker. A master binds before it forks, so the first worker's Node would start only
 * after the master's own Node has started and loaded tsgun and the config: two process starts in
 * a row. Instead `bin/tsgun` forks the first worker's process before anything else (this module,
 * in the small bundle of early-start.ts, is all it loads for that), and the master hands that
 * process what it would have given a fork (its environment, with the config, and its listening
 * sockets) over IPC once it has them. Where there is more than one CPU, both processes start at
 * once.
 *
 * What a process reads as it starts (Node's options, the dynamic loader's and OpenSSL's
 * variables, the working directory, the user) cannot be handed over later: the spare is used only
 * when the worker's environment differs from the spare's in tsgun's own variables alone, in the
 * same directory, without --user/--group; otherwise it is discarded and the worker forked as
 * usual. The sockets arrive as IPC handles instead of inherited fds; the worker listens on them
 * in the same way (child/listen-local.ts), on the master's socket.
 */

/** Variables tsgun sets per worker, which the spare reads only after its boot message. */
const HANDED_OVER: ReadonlySet<string> = new Set([
  WORKER_ENV.id,
  WORKER_ENV.config,
  WORKER_ENV.check,
  WORKER_ENV.fallbacks,
  'TSGUN_WORKER_INDEX',
  'NODE_APP_INSTANCE',
  'PORT',
]);

/** Words and flags after which no master starts (help, version, the clients, checks). */
const SUBCOMMANDS = new Set([
  'help',
  'version',
  'stats',
  'top',
  'status',
  'reload',
  'scale',
  'stop',
]);
const NO_MASTER_FLAGS = new Set(['-h', '--help', '-v', '-V', '--version', '--check-config']);

/** Not taken by then (a slow onStarting hook, --router, no worker to start): discarded. */
const SPARE_TTL_MS = 10_000;

/** Does this command line start a master, whose first worker a spare would be? */
export function startsMaster(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  if (argv.length === 0 || SUBCOMMANDS.has(argv[0]!)) return false;
  if (argv.some((a) => NO_MASTER_FLAGS.has(a) || a.startsWith('--print-config'))) return false;
  // Sockets handed down (systemd, a USR2 upgrade) are descriptors a child would inherit too.
  return !env['LISTEN_FDS'] && !env[UPGRADE_ENV.fds];
}

/**
 * What the spare must be told to become the worker the master would fork now: the variables of
 * `worker` that differ from the spare's start environment, or the first variable that differs
 * and cannot be handed over.
 */
export function spareEnvDelta(
  spare: NodeJS.ProcessEnv,
  worker: NodeJS.ProcessEnv,
): { readonly env: Record<string, string> } | { readonly mismatch: string } {
  const env: Record<string, string> = {};
  for (const key of new Set([...Object.keys(spare), ...Object.keys(worker)])) {
    const value = worker[key];
    if (spare[key] === value) continue;
    if (!HANDED_OVER.has(key) || value === undefined) return { mismatch: key };
    env[key] = value;
  }
  return { env };
}

interface Spare {
  readonly worker: Worker;
  readonly cwd: string;
  /** The environment it started with (cluster.fork merges the given one over process.env). */
  readonly env: NodeJS.ProcessEnv;
  waiting: boolean;
  onWaiting: (() => void) | null;
}

let spare: Spare | null = null;

/** Fork the spare, if this command line starts a master. Called by bin/tsgun, first thing. */
export function startSpare(argv: readonly string[]): void {
  if (spare || !cluster.isPrimary || !startsMaster(argv, process.env)) return;
  // systemd's socket is the master's (spawn.ts keeps it from every worker, the same way).
  // Nor the workers' variables: the master drops any the operator's environment has (cli/main.ts).
  const given: NodeJS.ProcessEnv = {
    ...Object.fromEntries(MASTER_OWNED_ENV.map((name) => [name, undefined])),
    [WORKER_ENV.spare]: '1',
    NOTIFY_SOCKET: undefined,
  };
  let worker: Worker;
  try {
    cluster.setupPrimary({
      exec: fileURLToPath(WORKER_ENTRY),
      args: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    worker = cluster.fork(given);
  } catch {
    return;
  }
  worker.on('error', () => {});
  // A failed fork has no pid: nothing to hand over, nothing ever to signal.
  if (adoptChild(worker.process) === null) return;
  // Until the master takes it, the spare holds nothing of the master's loop: a start that
  // stalls on the operator's code is told by its loop emptying (config/settle.ts).
  worker.process.unref();
  worker.process.channel?.unref();
  // What cluster.fork gave it; the spare drops its own marker as it boots.
  const env = { ...process.env, ...given, [WORKER_ENV.spare]: undefined };
  const s: Spare = { worker, cwd: process.cwd(), env, waiting: false, onWaiting: null };
  const onMessage = (value: unknown) => {
    const received = receiveFromWorker(value);
    if (received.kind !== 'ours' || received.message.type !== 'spare-waiting') return;
    worker.process.off('message', onMessage);
    s.waiting = true;
    s.onWaiting?.();
  };
  worker.process.on('message', onMessage);
  spare = s;
  setTimeout(() => discardSpare(), SPARE_TTL_MS).unref();
  // A master that exits first (bad input) ends it quietly: a cluster worker whose channel closes
  // during its own start fails with a stack trace on the shared stderr.
  process.once('exit', () => discardSpare());
}

/** Stop an unused spare. It has loaded nothing of the app and holds no socket. */
export function discardSpare(): void {
  const s = spare;
  spare = null;
  if (s && isLive(s.worker.process)) signalChild(s.worker.process.pid ?? null, 'SIGKILL');
}

const isLive = (child: ChildProcess): boolean =>
  child.exitCode === null && child.signalCode === null && child.connected;

/**
 * The spare as the worker the master is about to fork, with `env` and `sockets`; null (and the
 * spare, if any, discarded) when there is none or it cannot become that worker. `used` says,
 * for the log, whether it was used (and whether it was still starting) or why not.
 */
export function takeSpare(
  /** What the master passes to cluster.fork, which merges it over process.env. */
  given: NodeJS.ProcessEnv,
  sockets: readonly { readonly handle: object }[],
  switchesUser: boolean,
): { readonly child: ChildProcess | null; readonly used: string } | null {
  const s = spare;
  if (!s) return null;
  const delta = spareEnvDelta(s.env, { ...process.env, ...given });
  const why =
    unusable(s, switchesUser) ?? ('mismatch' in delta ? `${delta.mismatch} differs` : null);
  if (why !== null || !('env' in delta)) {
    discardSpare();
    return { child: null, used: `no (${why})` };
  }
  spare = null;
  const child = s.worker.process;
  child.ref();
  child.channel?.ref();
  const boot = () => {
    if (!child.connected) return;
    // --umask was set in the master after the spare started: a fork would inherit it.
    const umask = process.umask();
    child.send(masterMessage({ type: 'boot', env: delta.env, umask, sockets: sockets.length }));
    sockets.forEach((socket, index) => {
      if (child.connected)
        child.send(masterMessage({ type: 'socket', index }), socket.handle as never);
    });
  };
  // A cluster worker drops what arrives before its listener: the spare says when it listens.
  if (s.waiting) boot();
  else s.onWaiting = boot;
  return { child, used: s.waiting ? 'yes (waiting)' : 'yes (starting)' };
}

function unusable(s: Spare, switchesUser: boolean): string | null {
  if (!isLive(s.worker.process)) return 'it exited';
  if (switchesUser) return '--user/--group';
  if (process.cwd() !== s.cwd) return '--chdir';
  return null;
}
