import cluster from 'node:cluster';
import type { Server as NetServer } from 'node:net';

/** A listening socket, as an inherited fd number or as a handle received over IPC. */
export type ListenTarget = { readonly fd: number } | object;

interface InternalServer {
  /** Node's setupListenHandle: make a handle for `fd` (or bind) and listen, in this process. */
  _listen2(address: null, port: null, addressType: null, backlog: number, fd: number): void;
}

/**
 * Listen on a socket the master owns, in this process. Workers are cluster workers, and in a
 * cluster worker `listen({ fd })` (and a received Pipe handle, which takes the fd path) is sent to
 * the primary instead, which would put the master in the accept path and close the socket with
 * the last worker. `server._listen2(null, null, null, backlog, fd)` is what `listen` does outside a
 * cluster: it is internal to Node, so this is the one place that calls it (checked on Node 20,
 * 22 and 24 by the listen tests, which run every worker through it). The backlog is positional:
 * on the fd path `options.backlog` is ignored.
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
  const internal = server as unknown as InternalServer;
  if (typeof internal._listen2 !== 'function')
    throw new Error(`net.Server._listen2 is missing in Node ${process.version}`);
  server.once('listening', onListening);
  internal._listen2(null, null, null, backlog, fd);
}
