import cluster from 'node:cluster';
import { heartbeatMs, type WorkerMessage, workerMessage } from '../ipc/protocol.js';

/** What every process the master forks (a worker, the router) does to stay supervised. */

export function sendToMaster(message: WorkerMessage): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

let appFinishing = false;

/** After the channel closed, how often a child looks whether the master is gone. */
const ORPHAN_POLL_MS = 50;

let stopGracefully: (() => void) | null = null;

/** The child's graceful stop (stop-signals.ts), once it serves: what a closed channel starts. */
export function onChannelClosed(stop: () => void): void {
  stopGracefully = stop;
}

/**
 * The app's own stop handler runs its cleanup (a quick stop): the master going away must not cut
 * it short, so from now on neither the closed channel nor re-parenting ends the process; the
 * worker's own quick-stop bound does.
 */
export function letAppFinish(): void {
  appFinishing = true;
  // Node's cluster exits a worker on 'disconnect' unless the disconnect was asked for.
  if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
}

/**
 * Heartbeat on a timer from the event loop (its absence means the loop is blocked), and never
 * outlive the master: exit once this process has been re-parented (the master is gone, even after
 * a SIGKILL); when the channel closes, stop gracefully until then.
 */
export function stayAttached(
  timeoutSeconds: number,
  connections: () => number,
  requests?: () => number,
): void {
  const ppid = process.ppid;
  const masterGone = () => process.ppid !== ppid;
  const beat = () => {
    if (masterGone() && !appFinishing) process.exit(0);
    const served = requests ? { requests: requests() } : {};
    sendToMaster(workerMessage({ type: 'heartbeat', connections: connections(), ...served }));
  };
  // One at once: the master sends what it must (TLS material) only after a first message, since
  // a cluster worker reads its channel from startup and drops what arrives before its listener.
  beat();
  setInterval(beat, heartbeatMs(timeoutSeconds)).unref();
  // Node's cluster would exit at once on 'disconnect': what was accepted would be reset.
  if (cluster.worker) cluster.worker.exitedAfterDisconnect = true;
  process.on('disconnect', () => {
    if (appFinishing) return;
    if (masterGone()) process.exit(0);
    // Still booting (nothing accepted yet): go, as before serving.
    if (!stopGracefully) process.exit(0);
    // The master cut this child off (a broken channel, a flood: it sends TERM too), or it is dying
    // and the kernel has not re-parented this process yet. Either way stop gracefully, so what was
    // accepted is answered, and exit at once when the master turns out to be gone.
    stopGracefully();
    setInterval(() => {
      if (masterGone() && !appFinishing) process.exit(0);
    }, ORPHAN_POLL_MS).unref();
  });
}
