import type { Config, Hook } from './config/registry.js';
import type { Logger } from './log/logger.js';

export type HookName = {
  [K in keyof Config]: Config[K] extends Hook | null ? K : never;
}[keyof Config];

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
}

/** The hooks a worker runs itself; the worker imports the config file again to get them. */
export const WORKER_HOOKS = [
  'postWorkerInit',
  'workerInt',
  'workerAbort',
  'workerExit',
  'preRequest',
  'postRequest',
] as const;
export type WorkerHooks = Partial<Record<(typeof WORKER_HOOKS)[number], Hook>>;
