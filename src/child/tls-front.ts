import type { Server as NetServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TlsMaterial } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';
import { nodeRequire } from '../node-require.js';
import { rawSocketOf } from '../platform/socket-state.js';
import { secureSocketOf } from './drain.js';

/** A TLS front for an HTTP server (a worker's app, or the router); secure sockets are recorded against their raw socket. */
export function tlsFront(
  material: TlsMaterial,
  app: NetServer,
  logger: Logger,
  /** --http2: ALPN offers h2 too, and the connections that pick it go to this server. */
  h2: NetServer | null = null,
): NetServer {
  // node:tls (and crypto behind it) only with --certfile.
  const { createServer: createTlsServer } = nodeRequire('node:tls') as typeof import('node:tls');
  const front = createTlsServer({
    cert: material.cert,
    key: material.key,
    ...(material.ca ? { ca: material.ca } : {}),
    ALPNProtocols: h2 ? ['h2', 'http/1.1'] : ['http/1.1'],
  });
  front.on('secureConnection', (socket: TLSSocket) => {
    const raw = rawSocketOf(socket);
    if (raw) secureSocketOf.set(raw, socket);
    (h2 && socket.alpnProtocol === 'h2' ? h2 : app).emit('connection', socket);
  });
  front.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
  return front;
}
