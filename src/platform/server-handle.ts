import * as net from 'node:net';
import { forcedBroken } from './break-switch.js';
import { PlatformError } from './platform-error.js';

/** libuv's server handle (TCP or Pipe), as net._createServerHandle returns it. */
export interface ServerHandle {
  readonly fd: number;
  getsockname?(out: Record<string, unknown>): number;
  close(callback?: () => void): void;
}

type CreateServerHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => ServerHandle | number;

/**
 * What Node's cluster primary uses: create and bind a handle without listen(), so the master
 * never accepts. The first worker's listen(fd, backlog) puts the socket in LISTEN state; the
 * master's copy keeps it alive, with its queue, while no worker is running. Node has no public
 * way to bind without listening, so a Node without it is refused (checks.ts).
 */
export function bindWithoutListen(
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
): ServerHandle | number {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })
    ._createServerHandle;
  if (typeof create !== 'function' || forcedBroken('bind')) throw new PlatformError('bind');
  return fd === undefined
    ? create(address, port, addressType)
    : create(address, port, addressType, fd);
}

interface InternalServer {
  /** Node's setupListenHandle: make a handle for `fd` (or bind) and listen, in this process. */
  _listen2(address: null, port: null, addressType: null, backlog: number, fd: number): void;
}

/**
 * Listen on the master's socket `fd` in this cluster worker. In a cluster worker `listen({ fd })`
 * (and a received Pipe handle, which takes the fd path) is sent to the primary instead, which
 * would put the master in the accept path and close the socket with the last worker.
 * `server._listen2(null, null, null, backlog, fd)` is what `listen` does outside a cluster. The
 * backlog is positional: on the fd path `options.backlog` is ignored.
 */
export function listenOnFdInWorker(server: net.Server, fd: number, backlog: number): void {
  const internal = server as unknown as Partial<InternalServer>;
  if (typeof internal._listen2 !== 'function' || forcedBroken('listen-fd'))
    throw new PlatformError('listen-fd');
  internal._listen2(null, null, null, backlog, fd);
}

/** The descriptor of a listening server's socket (to hand it to another process), or null. */
export function serverFd(server: net.Server): number | null {
  const fd = (server as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}
