import { type WorkerMessage, workerMessage } from '../ipc/protocol.js';

/** What every process the master forks (a worker, the router) does to stay supervised. */

export function sendToMaster(message: WorkerMessage): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => {});
}

/** A quarter of --timeout (so one late beat is not a timeout), between 50 ms and 1 s. */
export function heartbeatMs(timeoutSeconds: number): number {
  return timeoutSeconds > 0 ? Math.max(50, Math.min(1000, (timeoutSeconds * 1000) / 4)) : 1000;
}

/**
 * Heartbeat on a timer from the event loop (its absence means the loop is blocked), and never
 * outlive the master: exit when the IPC channel closes (even after a SIGKILL of the master) or
 * when this process has been re-parented.
 */
export function stayAttached(timeoutSeconds: number, connections: () => number): void {
  const ppid = process.ppid;
  setInterval(() => {
    if (process.ppid !== ppid) process.exit(0);
    sendToMaster(workerMessage({ type: 'heartbeat', connections: connections() }));
  }, heartbeatMs(timeoutSeconds)).unref();
  process.on('disconnect', () => process.exit(0));
}
