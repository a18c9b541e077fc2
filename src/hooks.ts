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
 * name and does not take the process down: hooks are the operator's code, not tsgun's.
 */
export function runHook(config: Config, name: HookName, logger: Logger, ...args: unknown[]): void {
  callHook(config[name], name, logger, ...args);
}

export function callHook(
  fn: Hook | null | undefined,
  name: HookName,
  logger: Logger,
  ...args: unknown[]
): void {
  const hook = fn as ((...a: unknown[]) => unknown) | null | undefined;
  if (!hook) return;
  const report = (err: unknown) =>
    logger.error(
      { hook: name, err },
      `hook ${name} failed: ${(err as Error)?.message ?? String(err)}`,
    );
  try {
    const result = hook(...args);
    if (result instanceof Promise) result.catch(report);
  } catch (err) {
    report(err);
  }
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
