/** The settings of the Server hooks section: Gunicorn's hooks, given by a config file only. */
import type { Parser } from '../parsers.js';
import type { SettingSpec } from '../spec.js';

/** A server hook from the config file (Gunicorn's, in camelCase). May return a promise. */
export type Hook = (...args: never[]) => unknown;

const hook: Parser<Hook | null> = (value) => {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'function') throw new Error(`expected a function, got ${typeof value}`);
  return value as Hook;
};

/**
 * Gunicorn's server hooks, config-file only: the process that runs each (its first word: the
 * master, or each worker, which imports the config file again since functions do not cross IPC),
 * when, and what it gets.
 */
const HOOKS = {
  onStarting:
    'master, before the sockets are bound: (server). Throwing, or not settling within --startup-timeout, aborts the start (exit 2).',
  onReload: 'master, on HUP: (server).',
  whenReady: 'master, once, when the first workers are all ready: (server).',
  preFork: 'master, before a worker is forked: (server, worker).',
  postFork: 'master, after a worker is forked: (server, worker).',
  postWorkerInit: 'worker, after the app is loaded, before it accepts: (worker).',
  workerInt: 'worker, on INT or QUIT, before it exits: (worker).',
  workerAbort: 'worker, on ABRT (a heartbeat timeout), if its loop can still run: (worker).',
  preExec: 'master, before a USR2 upgrade starts the new master: (server).',
  childExit: 'master, after a worker exited: (server, worker).',
  workerExit: 'worker, just before it exits: (worker).',
  nworkersChanged:
    'master, when the worker count changes (TTIN, TTOU, HUP): (server, newValue, oldValue).',
  onExit: 'master, just before it exits: (server).',
  preRequest: 'worker, before the app sees a request: (worker, req).',
  postRequest: 'worker, after a response finished: (worker, req, res).',
} as const;
export type HookName = keyof typeof HOOKS;
/** The hooks a worker runs itself (the master runs the rest). */
export type WorkerHookName = {
  [K in HookName]: (typeof HOOKS)[K] extends `worker,${string}` ? K : never;
}[HookName];
export const HOOK_NAMES = Object.keys(HOOKS) as HookName[];
export const WORKER_HOOKS = HOOK_NAMES.filter((name): name is WorkerHookName =>
  HOOKS[name].startsWith('worker,'),
);

function hookSettings(): { readonly [K in HookName]: SettingSpec<Hook | null> } {
  const defs = {} as Record<HookName, SettingSpec<Hook | null>>;
  for (const name of HOOK_NAMES) {
    defs[name] = {
      section: 'Server hooks',
      flags: [],
      fileOnly: true,
      default: null,
      parse: hook,
      format: (v) => (v === null ? null : '[function]'),
      help: `Hook in the ${HOOKS[name]}`,
      hup: true,
    };
  }
  return defs;
}

export const HOOK_SETTINGS = hookSettings();
