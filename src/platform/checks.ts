import {
  connect,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { nodeRequire } from '../node-require.js';
import {
  AcceptedSockets,
  canReadNodeBooks,
  readsNodeBooks,
  useTrackedSockets,
} from './accepted-sockets.js';
import {
  ASSUMPTIONS,
  type Assumption,
  BREAK_ENV,
  forcedBroken,
  forcedNames,
} from './break-switch.js';
import { armServerTimeouts } from './http-timeouts.js';
import { parseChannelsUnseen, recordHandleReads } from './ipc-channel.js';
import { PlatformError } from './platform-error.js';
import { bindWithoutListen, type ServerHandle } from './server-handle.js';

/**
 * What tsgun relies on of Node's private behaviour, checked at start by doing it (not by testing
 * that a function exists): by the master, once, for itself and its children (same Node binary),
 * except the listen on a worker's fd, which each worker's own listen checks. A failed check logs
 * one line with the Node version and the assumption, then either takes the public-API path
 * (correct, slower) or refuses to start (PlatformError: TSGUN_ERR_PLATFORM, exit 6).
 * docs/platform.md lists them.
 */

/** What a check needs of a logger (pino's, in public terms): platform imports no log module. */
export interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Upper bound on the serving check (two loopback round trips and one timeout sweep). */
const CHECK_DEADLINE_MS = 2000;

/** Every process that sees the test-only switch says so, once. */
export function warnForced(logger: WarnLogger): void {
  const names = forcedNames();
  if (names.length > 0)
    logger.warn({ [BREAK_ENV]: names.join(',') }, 'test-only: platform checks forced to fail');
}

function broke(logger: WarnLogger, assumption: Assumption, fallback: string): void {
  logger.warn(
    { node: process.version, assumption: ASSUMPTIONS[assumption] },
    `Node ${process.version} breaks an assumption of tsgun's (${assumption}); ${fallback}`,
  );
}

/** The master: bind without listen (no public path: refused). Synchronous, one loopback bind. */
export function checkMasterPlatform(logger: WarnLogger | null): void {
  if (logger) warnForced(logger);
  const handle = bindWithoutListen('127.0.0.1', 0, 4);
  const out: Record<string, unknown> = {};
  const ok =
    typeof handle === 'object' &&
    handle.getsockname?.(out) === 0 &&
    typeof out['port'] === 'number' &&
    out['port'] > 0;
  if (typeof handle === 'object') handle.close();
  if (!ok) throw new PlatformError('bind');
}

/**
 * Listen on a free loopback port bound without listen (a TCP handle listens in this process,
 * even in a cluster worker, never via the primary), then call `onPort`; `onFail` if the bind or
 * the listen failed.
 */
function listenOnLoopback(
  server: NetServer,
  onPort: (port: number) => void,
  onFail: () => void,
): void {
  let handle: ServerHandle | number;
  try {
    handle = bindWithoutListen('127.0.0.1', 0, 4);
  } catch {
    onFail();
    return;
  }
  if (typeof handle === 'number') {
    onFail();
    return;
  }
  server.once('error', onFail);
  server.listen(handle, () => {
    const address = server.address();
    onPort(typeof address === 'object' && address ? address.port : 0);
  });
}

interface Seen {
  sizeAtAccept: number;
  listed: boolean;
  gone: number;
  sizeAfter: number;
  timedOut: boolean;
}

/** One connection to a throwaway server: the books and the timeout arming, seen at work. */
function exercise(): Promise<Seen | null> {
  return new Promise((resolve) => {
    const books = new AcceptedSockets(canReadNodeBooks());
    const seen: Seen = { sizeAtAccept: -1, listed: false, gone: 0, sizeAfter: -1, timedOut: false };
    // Required, not imported: src/node-require.ts says why.
    const { createServer } = nodeRequire('node:http') as typeof import('node:http');
    const http = createServer({
      headersTimeout: 1,
      requestTimeout: 1,
      connectionsCheckingInterval: 1,
    });
    armServerTimeouts(http);
    let client: Socket | null = null;
    let accepted: Socket | null = null;
    let server: NetServer | null = null;
    const finish = (result: Seen | null) => {
      clearTimeout(timer);
      client?.destroy();
      server?.close();
      http.close();
      resolve(result);
    };
    let late = false;
    // Timeouts unarmed: the socket is closed here instead, and the books are still read.
    const timer = setTimeout(() => {
      late = true;
      if (accepted) accepted.destroy();
      else finish(seen);
    }, CHECK_DEADLINE_MS);
    server = books.createServer(
      {},
      (socket) => {
        accepted = socket;
        seen.sizeAtAccept = books.size;
        seen.listed = [...books].includes(socket);
        // Nothing but the header timeout closes it before the deadline: the request never ends.
        socket.once('close', () => {
          seen.timedOut = !late;
          seen.sizeAfter = books.size;
          finish(seen);
        });
        http.emit('connection', socket);
      },
      () => {
        seen.gone++;
      },
    );
    listenOnLoopback(
      server,
      (port) => {
        const c = connect(port, '127.0.0.1', () => c.write('GET / HTTP/1.1\r\nHost: c\r\n'));
        c.on('error', () => {});
        client = c;
      },
      () => finish(null),
    );
  });
}

/**
 * What the `ipc-read` check's server writes: 256 KiB of lines in uneven writes, so that reads
 * fill Node's buffers partly (where Node 24 and 26 hand over a buffer larger than the read).
 */
const READ_CHECK_LINE = '{"tsgun":1,"type":"heartbeat"}\n';
const READ_CHECK_WRITES = [1, 7_000, 65_536, 333, 120_000, 70_000].map((size, i) =>
  Buffer.from(READ_CHECK_LINE.repeat(Math.ceil(size / READ_CHECK_LINE.length) + i)),
);
const READ_CHECK_BYTES = Buffer.concat(READ_CHECK_WRITES);

/**
 * A loopback connection whose client records the bytes its handle's read callback is given, as
 * a channel's inspector sees them (ipc-channel.ts), beside the bytes its stream delivers: the
 * same bytes, all of them and no others. False on any failure.
 */
function readsAreSeen(): Promise<boolean> {
  return new Promise((resolve) => {
    let server: NetServer | null = null;
    let client: Socket | null = null;
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      client?.destroy();
      server?.close();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), CHECK_DEADLINE_MS);
    server = createNetServer((socket) => {
      for (const chunk of READ_CHECK_WRITES) socket.write(chunk);
      socket.end();
    });
    listenOnLoopback(
      server,
      (port) => {
        const delivered: Buffer[] = [];
        let seen: (() => Buffer) | null = null;
        const c = connect(port, '127.0.0.1', () => {
          seen = recordHandleReads(c);
        });
        c.on('data', (chunk: Buffer) => delivered.push(chunk));
        c.on('end', () => {
          const got = Buffer.concat(delivered);
          finish(seen !== null && got.equals(READ_CHECK_BYTES) && seen().equals(got));
        });
        c.on('error', () => finish(false));
        client = c;
      },
      () => finish(false),
    );
  });
}

/**
 * The serving assumptions, checked once by the master before it forks (and by --check-config):
 * the connection books (fallback: connections tracked by public events) and the timeout arming
 * (no public path: refused). Not in each child: the children run the master's Node binary, and a
 * check connection in a child's isolate gives Node's socket code a second object shape for the
 * child's life (docs/benchmarks.md, "second look"). The children take the verdict from the
 * environment (childFallbacks, adoptFallbacks).
 */
export async function checkServingPlatform(logger: WarnLogger | null): Promise<void> {
  const [seen, readsSeen] = await Promise.all([exercise(), readsAreSeen()]);
  if (!seen) throw new PlatformError('bind');
  if (!readsSeen || forcedBroken('ipc-read')) {
    parseChannelsUnseen();
    if (logger)
      broke(
        logger,
        'ipc-read',
        'the IPC messages of workers and the router are parsed whatever their size, as Node does',
      );
  }
  const booksWork =
    readsNodeBooks() &&
    !forcedBroken('books') &&
    seen.sizeAtAccept === 1 &&
    seen.listed &&
    seen.gone >= 1 &&
    seen.sizeAfter === 0;
  if (!booksWork) {
    useTrackedSockets();
    if (logger)
      broke(logger, 'books', "tracking connections with Node's public events instead (slower)");
  }
  if (!seen.timedOut || forcedBroken('timeouts')) throw new PlatformError('timeouts');
}

/** The master: the fallbacks its check chose, as the value a child's environment carries. */
export const childFallbacks = (): string | undefined => (readsNodeBooks() ? undefined : 'books');

/** A child, before it serves: take the master's fallbacks (it does not check again). */
export function adoptFallbacks(value: string | undefined): readonly Assumption[] {
  if (!value?.split(',').includes('books')) return [];
  useTrackedSockets();
  return ['books'];
}
