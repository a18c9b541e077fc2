/**
 * What an app may import from tsgun. With `--wait-ready`, a worker counts as ready (and a reload
 * moves on) only once the app calls ready(), e.g. after warming a cache. Outside tsgun, or
 * without --wait-ready, it does nothing.
 */

/** Shared through the global symbol registry, so an app's own copy of tsgun reaches the worker's. */
export const READY_KEY = Symbol.for('tsgun.worker.ready');

type ReadyHook = { [READY_KEY]?: () => void };

export function ready(): void {
  (globalThis as ReadyHook)[READY_KEY]?.();
}

/** Used by the worker: what ready() calls. */
export function onAppReady(hook: () => void): void {
  (globalThis as ReadyHook)[READY_KEY] = hook;
}

export { VERSION as version } from './version.js';
