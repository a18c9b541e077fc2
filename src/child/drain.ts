import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SocketList } from '../platform/accepted-sockets.js';
import { responseOf } from '../platform/socket-state.js';

/** With TLS, HTTP runs on the TLS socket over the accepted one: raw socket -> TLS socket. */
export const secureSocketOf = new WeakMap<Socket, Socket>();

/** The response an http.Server socket is writing now; Node keeps it there until it finishes. */
export function currentResponse(socket: Socket): ServerResponse | null {
  const http = secureSocketOf.get(socket) ?? socket;
  return responseOf(http);
}

/** What the drain and the slot keeper (slots.ts) need of an HTTP/2 connection. */
export interface H2Connection {
  /** Its session is still open (it closes itself when drained by its GOAWAY). */
  open(): boolean;
  /** Its streams in flight: it is in a request, as an HTTP/1.1 one with a response under way. */
  streams(): number;
}

/** An HTTP/2 session's socket (the one the acceptor holds) -> its connection. */
export const h2Connections = new WeakMap<Socket, H2Connection>();

const SWEEP_MS = 100;

/**
 * Drain open connections without resetting a keep-alive client.
 *
 * Closing an idle keep-alive socket races with a client that is just sending its next request on
 * it (what http.Server.close() does at once). Instead: every response not yet started says
 * `Connection: close`, so a client sending requests closes by itself after its next answer; a
 * socket is closed only once it has been idle, with no byte read, for `idleMs`: the keep-alive
 * timeout, the same moment the server would close it anyway, which clients that honour the
 * `Keep-Alive: timeout` hint have stopped using by then. Calls onEmpty once every socket is gone.
 */
export function drainConnections(
  sockets: SocketList,
  onEmpty: () => void,
  idleMs: number,
): () => void {
  const idleSince = new WeakMap<Socket, { at: number; bytesRead: number }>();
  const sweep = () => {
    if (sockets.size === 0) {
      clearInterval(timer);
      onEmpty();
      return;
    }
    const now = Date.now();
    for (const socket of sockets) {
      if (h2Connections.get(secureSocketOf.get(socket) ?? socket)?.open()) continue;
      const res = currentResponse(socket);
      if (res) {
        if (!res.headersSent) res.shouldKeepAlive = false;
        idleSince.delete(socket);
        continue;
      }
      const seen = idleSince.get(socket);
      if (!seen || seen.bytesRead !== socket.bytesRead)
        idleSince.set(socket, { at: now, bytesRead: socket.bytesRead });
      else if (now - seen.at >= idleMs) socket.destroy();
    }
  };
  const timer = setInterval(sweep, SWEEP_MS);
  sweep();
  return () => clearInterval(timer);
}
