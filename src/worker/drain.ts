import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The response an http.Server socket is writing now; Node keeps it there until it finishes. */
function currentResponse(socket: Socket): ServerResponse | null {
  return (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}

/**
 * Drain open connections without resetting a keep-alive client.
 *
 * Closing idle sockets at once (what http.Server.close() does) races with a client that is just
 * sending its next request on that socket. Instead: every response not yet started says
 * `Connection: close`, and a socket is closed only once it has been idle, with no byte read, for
 * a whole sweep. A client sending requests back to back gets its next answer with
 * Connection: close and closes by itself. Calls onEmpty once every socket is gone.
 */
export function drainConnections(
  sockets: Set<Socket>,
  onEmpty: () => void,
  sweepMs = 100,
): () => void {
  const idleAt = new WeakMap<Socket, number>();
  const sweep = () => {
    if (sockets.size === 0) {
      clearInterval(timer);
      onEmpty();
      return;
    }
    for (const socket of sockets) {
      const res = currentResponse(socket);
      if (res) {
        if (!res.headersSent) res.shouldKeepAlive = false;
        idleAt.delete(socket);
        continue;
      }
      if (idleAt.get(socket) === socket.bytesRead) socket.destroy();
      else idleAt.set(socket, socket.bytesRead);
    }
  };
  const timer = setInterval(sweep, sweepMs);
  sweep();
  return () => clearInterval(timer);
}
