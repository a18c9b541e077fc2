/**
 * A worker's first module, CommonJS so that it runs before anything Node queued at start-up.
 * A cluster worker sends its 'online' message while Node prepares the process; when the master
 * has died by then (SIGKILL while workers boot), that write fails with EPIPE, and Node emits
 * the error on `cluster.worker` on the next tick: with no listener it is an uncaught exception,
 * a stack trace on the shared stderr. The worker itself (an ES module, loaded asynchronously)
 * would come too late to listen. An IPC write that fails because the master is gone ends the
 * worker quietly, as the channel's close would a moment later; any other error stays loud.
 */
import cluster from 'node:cluster';

declare const TSGUN_BUNDLE: boolean | undefined;

const MASTER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_IPC_CHANNEL_CLOSED']);

cluster.worker?.on('error', (err: NodeJS.ErrnoException) => {
  if (!MASTER_GONE.has(err?.code ?? '')) throw err;
  process.exit(0);
});

// Beside this file in both layouts (src/entry-points.ts): the worker's bundle, or dist/src's.
const main = typeof TSGUN_BUNDLE === 'boolean' ? './tsgun-worker.mjs' : './main.js';
void import(main);
