/**
 * The handshake between an app's `ready()` (exported by src/index.ts) and the worker that waits
 * for it under --wait-ready. Its own module, so the worker never imports the public entry point.
 * Shared through the global symbol registry, so an app's own copy of tsgun reaches the worker's.
 */
const READY_KEY = Symbol.for('tsgun.worker.ready');

type ReadyHook = { [READY_KEY]?: () => void };

/** What the app calls: the worker's hook, or nothing outside tsgun. */
export function ready(): void {
  (globalThis as ReadyHook)[READY_KEY]?.();
}

/** Used by the worker: what ready() calls. */
export function onAppReady(hook: () => void): void {
  (globalThis as ReadyHook)[READY_KEY] = hook;
}
