import cluster from 'node:cluster';
import type { Server as NetServer } from 'node:net';
import { listenOnFdInWorker } from '../platform/server-handle.js';

/** A listening socket, as an inherited fd number or as a handle received over IPC. */
export type ListenTarget = { readonly fd: number } | object;

/**
 * Listen on a socket the master owns, in this process. Workers are cluster workers, and in a
 * cluster worker `listen({ fd })` (and a received Pipe handle, which takes the fd path) is sent to
 * the primary instead, which would put the master in the accept path and close the socket with
 * the last worker: platform/server-handle.ts listens in this process instead.
 */
export function listenLocally(
  server: NetServer,
  target: ListenTarget,
  backlog: number,
  onListening: () => void,
): void {
  if (!cluster.isWorker) {
    server.listen(target, backlog, onListening);
    return;
  }
  const fd = (target as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || fd < 0)
    throw new Error('listenLocally: no descriptor to listen on');
  server.once('listening', onListening);
  listenOnFdInWorker(server, fd, backlog);
}
