import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What Node keeps on an http.Server's socket and response without a public name. Each reader
 * degrades to the public answer when the member is gone: no response known (a drain then waits
 * for the idle rule), no queued bytes beyond the stream's own buffer, no header block.
 */

/** The response an http.Server socket is writing now; Node keeps it there until it finishes. */
export function responseOf(socket: object): ServerResponse | null {
  const res = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
  return res ?? null;
}

/** Bytes written to the socket that still wait in libuv (not yet taken by the kernel). */
export function queuedBytes(socket: Socket): number {
  const queued = (socket as Socket & { _handle?: { writeQueueSize?: unknown } | null })._handle
    ?.writeQueueSize;
  return typeof queued === 'number' ? queued : 0;
}

/** The plain TCP socket a TLS socket runs over (what the acceptor accepted), if known. */
export function rawSocketOf(secure: Socket): Socket | null {
  return (secure as Socket & { _parent?: Socket | null })._parent ?? null;
}

/** The header block Node wrote for a response (Gunicorn's %(b)s reads its length), if any. */
export function writtenHeader(res: ServerResponse): string | null {
  const header = (res as ServerResponse & { _header?: unknown })._header;
  return typeof header === 'string' ? header : null;
}

/** A connection's peer as net.Socket's getters give it. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly family: string;
}

/**
 * Make the socket's remoteAddress, remotePort and remoteFamily answer `peer` (the client a
 * PROXY protocol header named). Node's getters read what getpeername(2) gave, kept in
 * `_peername`: set there, nothing else about the socket changes. Where that no longer holds,
 * own properties shadow the getters: the same answers, but each such socket then has a shape of
 * its own, which Node's net and http code pays for on every connection.
 */
export function setPeer(socket: Socket, peer: Peer): void {
  (socket as Socket & { _peername?: Peer })._peername = {
    address: peer.address,
    port: peer.port,
    family: peer.family,
  };
  if (socket.remoteAddress === peer.address && socket.remotePort === peer.port) return;
  Object.defineProperties(socket, {
    remoteAddress: { value: peer.address, configurable: true },
    remotePort: { value: peer.port, configurable: true },
    remoteFamily: { value: peer.family, configurable: true },
  });
}
