import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { setPeer } from '../platform/socket-state.js';
import { onceASecond } from './log-rate.js';
import { type HeaderVerdict, parseProxyHeader } from './proxy-header.js';
import { isTrusted, type TrustList, trustList } from './trust-list.js';

/**
 * --proxy-protocol: each connection from a --proxy-allow-from peer (or over a unix socket, where
 * only local processes connect) must open with a PROXY header, v1 or v2; its client address and
 * port then are the socket's `remoteAddress`/`remotePort`/`remoteFamily`, so everything that reads
 * them (the app, the access log, the router's X-Forwarded-For and --sticky ip) sees the client.
 * A missing, malformed, oversized or unfinished header closes that connection, never the process.
 * Peers outside the list are served as they are: a header they send is then a bad request.
 */
export interface ProxyProtocolOptions {
  readonly allowFrom: readonly string[];
  /** How long a header may take to arrive whole (a trickled header is a slow client). */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export type Admit = (socket: Socket, serve: (socket: Socket) => void) => void;

/** The admit step, and how many headers it refused since the process started (for --stats). */
export interface ProxyProtocol {
  readonly admit: Admit;
  readonly refused: () => number;
}

/** At most one line a second about refused headers, with how many since the last one. */
const refusals = (logger: Logger) =>
  onceASecond((refused, reason: string, peer: string | undefined) =>
    logger.warn({ reason, peer, refused }, 'closed a connection: bad PROXY protocol header'),
  );

export function proxyProtocolAdmit(opts: ProxyProtocolOptions): ProxyProtocol {
  const allow: TrustList = trustList(opts.allowFrom);
  const logRefusal = refusals(opts.logger);
  let refusedTotal = 0;
  const admit: Admit = (socket, serve) => {
    const peer = socket.remoteAddress;
    // A unix socket has no peer address: only local processes reach it.
    if (peer !== undefined && !isTrusted(allow, peer)) {
      serve(socket);
      return;
    }
    let received: Buffer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', done);
    };
    const refuse = (reason: string) => {
      done();
      refusedTotal++;
      logRefusal(reason, peer);
      socket.destroy();
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const verdict: HeaderVerdict = parseProxyHeader(received);
      if (verdict.kind === 'more') return;
      if (verdict.kind === 'error') {
        refuse(verdict.reason);
        return;
      }
      done();
      // The client's address as the header gave it, over the peer's, on this socket alone.
      if (verdict.source) setPeer(socket, verdict.source);
      // No 'data' listener is left until the server's: what followed the header waits in the
      // socket's buffer, and reaches the server first (the TLS front pauses the socket first:
      // tls-front.ts says why).
      if (verdict.consumed < received.length) socket.unshift(received.subarray(verdict.consumed));
      serve(socket);
    };
    const timer = setTimeout(() => refuse('header not complete in time'), opts.timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', done);
  };
  return { admit, refused: () => refusedTotal };
}

/** A header must arrive whole within this when --header-timeout is off. */
const HEADER_BOUND_MS = 10_000;

/** The admit step of a worker's or the router's Acceptor, from the settings. */
export function proxyProtocolFor(
  config: { readonly proxyAllowFrom: readonly string[]; readonly headerTimeout: number },
  logger: Logger,
): ProxyProtocol {
  return proxyProtocolAdmit({
    allowFrom: config.proxyAllowFrom,
    timeoutMs: config.headerTimeout > 0 ? config.headerTimeout * 1000 : HEADER_BOUND_MS,
    logger,
  });
}
