import type { Server as NetServer, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';
import { workerMessage } from '../ipc/protocol.js';
import { armServerTimeouts } from '../platform/http-timeouts.js';
import { Acceptor } from './acceptor.js';
import { sendToMaster } from './attach.js';
import { type ChildBoot, type ChildConfig, listenOnSockets, type MasterLink } from './boot.js';
import { proxyProtocolFor } from './proxy-protocol.js';
import type { SlotKeeper } from './slots.js';
import { handleStopSignals, type StopSignalOptions } from './stop-signals.js';
import { tlsFront } from './tls-front.js';

/**
 * What a worker and the router share once their server is made: the TLS front, the Acceptor on
 * the master's sockets (with the PROXY protocol's admit step), the stop signals and the final
 * listen. Each entry point passes only what is its own: its server, its connection limit, and
 * its part of the stop.
 */

/** The settings serving reads (child/ does not read the config module: each main passes its). */
export interface ServeConfig extends ChildConfig {
  readonly certfile: string | null;
  readonly proxyProtocol: boolean;
  readonly proxyAllowFrom: readonly string[];
  readonly headerTimeout: number;
  readonly router: boolean;
  readonly backlog: number;
  readonly keepAlive: number;
  readonly bind: readonly unknown[];
}

/** The child's own part of its stop signals (stop-signals.ts). */
export type ChildStop = Omit<
  StopSignalOptions,
  'role' | 'acceptor' | 'keepAliveSeconds' | 'logger'
>;

export interface ServeOptions<C extends ServeConfig> {
  readonly boot: ChildBoot<C>;
  readonly master: MasterLink;
  /** The HTTP server every accepted (and, with --certfile, decrypted) connection goes to. */
  readonly server: NetServer;
  /** --http2: plain connections go to its front, and TLS offers h2 to its server. */
  readonly h2?: { readonly plain: NetServer; readonly server: NetServer } | null;
  /** At this many open connections the child stops accepting until one closes. */
  readonly maxConnections: number;
  readonly slots?: SlotKeeper;
  readonly onSocketClosed?: (socket: Socket) => void;
  /** The child's part of the stop, given its acceptor. */
  readonly stop: (acceptor: Acceptor) => ChildStop;
}

export interface Serving {
  readonly acceptor: Acceptor;
  /** --proxy-protocol: connections closed for a bad header so far (0 without it). */
  proxyHeaderRefused(): number;
  /**
   * Listen on the master's sockets (or those a spare received), then start the server's own
   * timeouts. `serving` runs between: an app that called listen() sees its address first.
   */
  listen(received: readonly object[] | null, serving?: () => void): Promise<void>;
}

export async function serve<C extends ServeConfig>(o: ServeOptions<C>): Promise<Serving> {
  const { boot, server } = o;
  const { config, logger } = boot;
  // In router mode the router reads the PROXY header; the workers behind it get none.
  const admit = config.proxyProtocol && (boot.role === 'router' || !config.router);
  let front: NetServer = o.h2?.plain ?? server;
  // HTTPS: TLS is terminated in a tls.Server of tsgun's, which hands each secure connection to
  // the server like a plain one, whatever the export form.
  if (config.certfile) {
    const material = await o.master.tls;
    const tls = tlsFront(material, server, logger, o.h2?.server ?? null, admit) as TlsServer;
    // Certificate rotation (HUP): new handshakes use the new pair; open connections stay. Only
    // the router, which outlives a reload, is sent one: a worker gets its pair once, at the fork.
    o.master.onRotate((m) =>
      tls.setSecureContext({ cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) }),
    );
    front = tls;
  }
  const proxy = admit ? proxyProtocolFor(config, logger) : null;
  const acceptor = new Acceptor(front, {
    ...(proxy ? { admit: proxy.admit } : {}),
    backlog: config.backlog,
    maxConnections: o.maxConnections,
    // Only a child with a finite limit pauses and asks again (the router has none).
    requestSockets: () => sendToMaster(workerMessage({ type: 'want-sockets' })),
    ...(o.onSocketClosed ? { onSocketClosed: o.onSocketClosed } : {}),
    ...(o.slots ? { slots: o.slots } : {}),
    logger,
  });
  handleStopSignals({
    role: boot.role,
    acceptor,
    keepAliveSeconds: config.keepAlive,
    logger,
    ...o.stop(acceptor),
  });
  return {
    acceptor,
    proxyHeaderRefused: () => proxy?.refused() ?? 0,
    listen: async (received, serving) => {
      await listenOnSockets(boot, acceptor, config.bind.length, received);
      serving?.();
      // Starts Node's header/request timeout checks, which an http.Server runs once it is
      // listening (and, for an app that called listen(), its callback and 'listening' listeners).
      armServerTimeouts(server);
    },
  };
}
