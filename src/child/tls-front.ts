import type { Server as NetServer, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { TlsMaterial } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';
import { nodeRequire } from '../node-require.js';
import { rawSocketOf, setPeer } from '../platform/socket-state.js';
import { secureSocketOf } from './drain.js';

/** A TLS front for an HTTP server (a worker's app, or the router); secure sockets are recorded against their raw socket. */
export function tlsFront(
  material: TlsMaterial,
  app: NetServer,
  logger: Logger,
  /** --http2: ALPN offers h2 too, and the connections that pick it go to this server. */
  h2: NetServer | null = null,
  /** --proxy-protocol: the admit step read a PROXY header on the raw socket before the handshake. */
  proxied = false,
): NetServer {
  // node:tls (and crypto behind it) only with --certfile.
  const { createServer: createTlsServer } = nodeRequire('node:tls') as typeof import('node:tls');
  const front = createTlsServer({
    cert: material.cert,
    key: material.key,
    ...(material.ca ? { ca: material.ca } : {}),
    ALPNProtocols: h2 ? ['h2', 'http/1.1'] : ['http/1.1'],
  });
  if (proxied) {
    // Before tls.Server's own listener makes the TLS socket. The admit step read the raw socket
    // with a 'data' listener, which left it flowing, and unshifted what followed the header (the
    // ClientHello, when the balancer sent both in one segment): flowing, those bytes would be
    // emitted on the next tick to no listener, and lost. Paused, they stay in the raw socket's
    // buffer, which the TLS socket feeds to its handle first (DEVELOPERS.md, "Sockets").
    front.prependListener('connection', (raw: Socket) => raw.pause());
  }
  front.on('secureConnection', (socket: TLSSocket) => {
    const raw = rawSocketOf(socket);
    if (raw) {
      secureSocketOf.set(raw, socket);
      // The TLS socket asks the kernel for its peer: the balancer. The client is the raw
      // socket's, as the header named it (or the peer's own, for one outside the allow list).
      if (proxied) copyPeer(raw, socket);
    }
    (h2 && socket.alpnProtocol === 'h2' ? h2 : app).emit('connection', socket);
  });
  front.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
  return front;
}

function copyPeer(from: Socket, to: Socket): void {
  const { remoteAddress: address, remotePort: port, remoteFamily: family } = from;
  // A unix socket bind has none (and a header's UNKNOWN keeps it so).
  if (address === undefined || port === undefined || family === undefined) return;
  setPeer(to, { address, port, family });
}
