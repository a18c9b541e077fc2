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
export function exitWhenAppDone(cleanup: () => void): void {
  let cleaned = false;
  const once = () => {
    if (cleaned) return;
    cleaned = true;
    cleanup();
  };
  process.once('exit', once);
  process.once('beforeExit', () => process.exit(0));
  process.channel?.unref();
}
