import cluster from 'node:cluster';
import { heartbeatMs, type WorkerMessage, workerMessage } from '../ipc/protocol.js';

/** What every process the master forks (a worker, the router) does to stay supervised. */

export function sendToMaster(message: WorkerMessage): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

let appFinishing = false;

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
 * outlive the master: exit when the IPC channel closes (even after a SIGKILL of the master) or
 * when this process has been re-parented.
 */
export function stayAttached(
  timeoutSeconds: number,
  connections: () => number,
  requests?: () => number,
): void {
  const ppid = process.ppid;
  const beat = () => {
    if (process.ppid !== ppid && !appFinishing) process.exit(0);
    const served = requests ? { requests: requests() } : {};
    sendToMaster(workerMessage({ type: 'heartbeat', connections: connections(), ...served }));
  };
  // One at once: the master sends what it must (TLS material) only after a first message, since
  // a cluster worker reads its channel from startup and drops what arrives before its listener.
  beat();
  setInterval(beat, heartbeatMs(timeoutSeconds)).unref();
  process.on('disconnect', () => {
    if (!appFinishing) process.exit(0);
  });
}
