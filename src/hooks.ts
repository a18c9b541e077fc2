import { canonicalKey } from './config/keys.js';
import {
  type Config,
  type Hook,
  type HookName,
  WORKER_HOOKS,
  type WorkerHookName,
} from './config/registry.js';
import type { Logger } from './log/logger.js';

export type { HookName };

/**
 * Call a server hook from the config file. A hook that throws (or rejects) is logged with its
 * name and does not take the process down: hooks are the operator's code, not tsgun's. The
 * promise settles when the hook has (never rejects); the master's callers that await it (see
 * the hook table of docs/settings.md) wait at most --graceful-timeout, so a hook that hangs cannot hold a
 * reload or the exit forever.
 */
export function runHook(
  config: Config,
  name: HookName,
  logger: Logger,
  ...args: unknown[]
): Promise<void> {
  const settled = callHook(config[name], name, logger, ...args);
  if (!config[name]) return settled;
  const ms = config.gracefulTimeout * 1000;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      logger.warn(
        { hook: name },
        `hook ${name} did not settle within --graceful-timeout: going on`,
      );
      resolve();
    }, ms);
  });
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
}

/** Call a hook; the promise settles when the hook's own promise has (it never rejects). */
export function callHook(
  fn: Hook | null | undefined,
  name: HookName,
  logger: Logger,
  ...args: unknown[]
): Promise<void> {
  const hook = fn as ((...a: unknown[]) => unknown) | null | undefined;
  if (!hook) return Promise.resolve();
  const report = (err: unknown) =>
    logger.error(
      { hook: name, err },
      `hook ${name} failed: ${(err as Error)?.message ?? String(err)}`,
    );
  try {
    const result = hook(...args);
    if (isThenable(result)) return Promise.resolve(result).then(() => {}, report);
  } catch (err) {
    report(err);
  }
  return Promise.resolve();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** The first argument of master hooks, like Gunicorn's `server` (the arbiter). */
export interface ServerFacade {
  readonly pid: number;
  readonly config: Config;
  readonly log: Logger;
  workers(): { id: number; pid: number; state: string; generation: number }[];
}

/** What worker hooks (and master hooks about a worker) receive. */
export interface WorkerFacade {
  readonly id: number;
  /** null in preFork: the worker is not forked yet (as Gunicorn's `worker.pid` is None there). */
  readonly pid: number | null;
  readonly generation?: number;
  /** TSGUN_WORKER_INDEX: 0..workers-1, kept by a replacement (master-side hooks). */
  readonly index?: number;
}

export type WorkerHooks = Partial<Record<WorkerHookName, Hook>>;

/**
 * The hooks a worker runs itself, from the config file's values (the worker imports the file
 * again: functions do not cross IPC). Keys match as in the master: any spelling canonicalKey
 * accepts, so a hook the master accepts is one the worker calls.
 */
export function workerHooksFrom(values: Readonly<Record<string, unknown>>): WorkerHooks {
  const hooks: WorkerHooks = {};
  for (const [key, value] of Object.entries(values)) {
    const name = canonicalKey(key);
    if ((WORKER_HOOKS as readonly string[]).includes(name) && typeof value === 'function')
      hooks[name as WorkerHookName] = value as Hook;
  }
  return hooks;
}
