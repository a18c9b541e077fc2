import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2Server, Http2ServerRequest, ServerHttp2Session } from 'node:http2';
import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { nodeRequire } from '../node-require.js';
import { h2Connections } from './drain.js';
import { isTrusted, trustList } from './trust-list.js';

/** The client connection preface of HTTP/2 (RFC 9113 3.4): what an h2c prior-knowledge client sends first. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Pure: 'h2' once `bytes` hold the whole preface, 'http1' as soon as they differ from it (any
 * HTTP/1.1 request line differs in its first bytes), 'more' while they are a prefix of it.
 */
export function sniffPreface(bytes: Buffer): 'h2' | 'http1' | 'more' {
  const n = Math.min(bytes.length, H2_PREFACE.length);
  if (bytes.compare(H2_PREFACE, 0, n, 0, n) !== 0) return 'http1';
  return n === H2_PREFACE.length ? 'h2' : 'more';
}

/**
 * Streams one client may have open at once. RFC 9113 6.5.2 advises no less than 100, which is
 * what browsers expect of a server; more only multiplies what one connection can queue on the
 * workers (each stream is a request for a worker or the app), and streams past it are refused
 * (REFUSED_STREAM) by nghttp2, and a client that keeps opening them past Node's
 * maxSessionRejectedStreams has its session closed (ENHANCE_YOUR_CALM).
 */
export const MAX_CONCURRENT_STREAMS = 100;
/** Megabytes of buffered frames one session may hold before new streams are refused. */
export const MAX_SESSION_MEMORY_MB = 10;

/** An HTTP/2 request with a body: its stream did not end with the request's HEADERS frame. */
export function h2HasBody(req: IncomingMessage): boolean {
  return (req as unknown as Http2ServerRequest).stream?.endAfterHeaders === false;
}

export interface H2Front {
  readonly server: Http2Server;
  /** Takes accepted plain connections: from a trusted peer, sniffed for the preface first. */
  readonly plain: NetServer;
  /** Stopping: GOAWAY on every session; its open streams finish, it takes no new ones. */
  goaway(): void;
  /** HTTP/2 requests (streams) served since start. */
  requests(): number;
}

export interface H2FrontOptions {
  /** The child's HTTP/1.1 server (the router's, or the app's): every non-h2 connection goes there. */
  readonly http1: NetServer;
  /** Peers that may speak h2c (prior knowledge): --forwarded-allow-ips. */
  readonly allowFrom: readonly string[];
  readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** Idle session timeout (ms). */
  readonly idleMs: number;
  readonly logger: Logger;
}

/**
 * An HTTP/2 front for a child (the router, or a direct-mode worker): Node's http2 compat API, its
 * requests going the HTTP/1.1 way (`onRequest`).
 */
export function h2Front(o: H2FrontOptions): H2Front {
  const http2 = nodeRequire('node:http2') as typeof import('node:http2');
  const server = http2.createServer({
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
    maxSessionMemory: MAX_SESSION_MEMORY_MB,
  });
  const trust = trustList(o.allowFrom);
  const sessions = new Set<ServerHttp2Session>();
  let requests = 0;
  let stopping = false;
  server.setTimeout(o.idleMs);
  // The session's own `socket` is a Proxy, not the socket the acceptor holds: the socket is taken
  // from 'connection', which the server emits right after the 'session' it made for it.
  let opened: ServerHttp2Session | null = null;
  server.on('session', (session: ServerHttp2Session) => {
    opened = session;
    sessions.add(session);
    session.on('error', (err) => o.logger.debug({ err: err.message }, 'HTTP/2 session error'));
    session.once('close', () => sessions.delete(session));
    if (stopping) session.close();
  });
  server.on('connection', (socket: Socket) => {
    const session = opened;
    opened = null;
    if (!session) return;
    // Drained by its GOAWAY: the session ends itself (and its socket) once its streams are done.
    let streams = 0;
    h2Connections.set(socket, { open: () => !session.destroyed, streams: () => streams });
    session.on('stream', (stream) => {
      streams++;
      stream.once('close', () => streams--);
    });
    session.once('close', () => {
      h2Connections.delete(socket);
    });
  });
  server.on('stream', (stream) => {
    requests++;
    stream.on('error', (err) => o.logger.debug({ err: err.message }, 'HTTP/2 stream error'));
  });
  server.on('sessionError', (err) => o.logger.debug({ err: err.message }, 'HTTP/2 session error'));
  server.on('request', o.onRequest as never);

  const sniff = (socket: Socket): void => {
    if (!isTrusted(trust, socket.remoteAddress)) {
      o.http1.emit('connection', socket);
      return;
    }
    let got: Buffer | null = null;
    // A peer that sends nothing is closed at --header-timeout by the slot keeper
    // (server-limits.ts), which watches every accepted socket, this one too.
    const onData = (chunk: Buffer): void => {
      got = got === null ? chunk : Buffer.concat([got, chunk]);
      const verdict = sniffPreface(got);
      if (verdict === 'more') return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(got);
      (verdict === 'h2' ? server : o.http1).emit('connection', socket);
      if (verdict === 'http1') socket.resume();
    };
    socket.on('data', onData);
  };
  const plain = (nodeRequire('node:net') as typeof import('node:net')).createServer();
  plain.on('connection', sniff);

  return {
    server,
    plain,
    goaway() {
      stopping = true;
      for (const session of sessions) session.close();
    },
    requests: () => requests,
  };
}
