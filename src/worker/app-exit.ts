import type { QuickSignal } from '../child/stop-signals.js';

/**
 * An app written for plain Node stops itself on SIGTERM (`server.close()`, then its database
 * pool, then `process.exit()` or simply an empty event loop). tsgun's own handler is the one
 * listener it installs; when the app added its own, the drained worker does not cut the app's
 * cleanup short: tsgun stops keeping the process alive (the IPC channel is unreferenced, its
 * timers already are) and the worker exits when the app is done, as under `node server.js`.
 * The master's --graceful-timeout still bounds it (SIGKILL).
 */
export function appHandlesTerm(): boolean {
  return appListensTo('SIGTERM');
}

/** Whether the app has a listener of its own for `sig` (tsgun installs one for each stop signal). */
export function appListensTo(sig: 'SIGINT' | 'SIGTERM' | 'SIGQUIT'): boolean {
  return process.listenerCount(sig) > 1;
}

/** A quick stop: exit now, or let the app's own handler finish (after giving it `emit`). */
export type QuickStopPlan =
  | { readonly wait: false }
  | { readonly wait: true; readonly emit: 'SIGINT' | 'SIGTERM' | null };

/**
 * What a quick stop (INT/QUIT) does with the app, PM2's way (SIGINT, then a kill timeout): an app
 * with its own SIGINT or SIGTERM handler gets one stop signal and the quick-stop grace to finish
 * its cleanup; one without stops at once. The app's stop signal is never given twice: Node has
 * already run its listeners for the signal received (a terminal's Ctrl-C), and for the TERM that
 * began a drain (`termed`). A QUIT from the master gives it SIGINT, or SIGTERM if that is the
 * one it handles.
 */
export function quickStopPlan(o: {
  readonly received: QuickSignal;
  readonly termed: boolean;
  readonly listens: (sig: 'SIGINT' | 'SIGTERM' | 'SIGQUIT') => boolean;
}): QuickStopPlan {
  if (o.listens(o.received) || (o.termed && o.listens('SIGTERM')))
    return { wait: true, emit: null };
  if (o.listens('SIGINT')) return { wait: true, emit: 'SIGINT' };
  if (o.listens('SIGTERM')) return { wait: true, emit: 'SIGTERM' };
  return { wait: false };
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
