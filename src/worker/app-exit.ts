/**
 * An app written for plain Node stops itself on SIGTERM (`server.close()`, then its database
 * pool, then `process.exit()` or simply an empty event loop). tsgun's own handler is the one
 * listener it installs; when the app added its own, the drained worker does not cut the app's
 * cleanup short: tsgun stops keeping the process alive (the IPC channel is unreferenced, its
 * timers already are) and the worker exits when the app is done, as under `node server.js`.
 * The master's --graceful-timeout still bounds it (SIGKILL).
 */
export function appHandlesTerm(): boolean {
  return process.listenerCount('SIGTERM') > 1;
}

/**
 * Exit when the app is done: on its own process.exit(), or once the event loop has nothing left.
 * `cleanup` (tsgun's workerExit hook, the access log flush) runs once either way.
 */
export function exitWhenAppDone(cleanup: () => Promise<void>): void {
  let cleaned: Promise<void> | null = null;
  const once = () => {
    cleaned ??= cleanup();
    return cleaned;
  };
  // The app's own process.exit(): only what the cleanup does synchronously can still run.
  process.once('exit', () => void once());
  // Nothing left to do: the cleanup (the workerExit hook) is awaited first.
  process.once('beforeExit', () => void once().then(() => process.exit(0)));
  process.channel?.unref();
}
