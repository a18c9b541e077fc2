import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { SocketList } from '../platform/accepted-sockets.js';
import { queuedBytes } from '../platform/socket-state.js';
import { currentResponse, h2Connections, secureSocketOf } from './drain.js';
import { type ConnView, judge, pickVictim, type SlowLimits } from './slot-policy.js';

export interface SlotKeeperOptions {
  readonly limits: SlowLimits;
  /** --worker-connections, for the once-per-incident warning. */
  readonly maxConnections: number;
  /** Answer a request whose body stopped arriving (408) before the connection closes. */
  readonly answerBodyTimeout: (res: ServerResponse) => void;
  readonly logger: Logger;
}

const SWEEP_MS = 1000;

/** Bytes the kernel took from a socket: what was dispatched minus what still waits in libuv. */
function flushedBytes(socket: Socket): number {
  return (socket.bytesWritten ?? 0) - socket.writableLength - queuedBytes(socket);
}

/** What the slot keeper last saw of a connection, to tell progress from a stall. */
interface Progress {
  /** When the keeper first saw the connection: its accept time, up to one sweep late. */
  readonly acceptedAt: number;
  bytesRead: number;
  readAt: number;
  flushed: number;
  writeAt: number;
}

/**
 * Keeps a worker's connection slots for clients that work: picks the connection to close when the
 * worker is full (slot-policy.ts), and once a second closes slow clients that stopped making
 * progress. What it last saw of a connection is kept beside it from the first sweep or search
 * that meets it (a connection closed within a second costs nothing); the cost is a walk over the
 * open connections each second, nothing per request or per short connection.
 */
export class SlotKeeper {
  private timer: NodeJS.Timeout | null = null;
  private incident = false;
  private open: SocketList | null = null;
  private readonly seen = new WeakMap<Socket, Progress>();

  constructor(private readonly opts: SlotKeeperOptions) {}

  /**
   * Watch the acceptor's connections: start the once-a-second sweep; `after` runs after each one
   * (the acceptor may resume accepting).
   */
  start(open: SocketList, after: () => void): void {
    this.open = open;
    this.timer = setInterval(() => {
      this.sweep();
      after();
    }, SWEEP_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The connection to close so that `spare` (just accepted) gets a slot; null if all work. */
  victim(spare: Socket | null): Socket | null {
    const now = Date.now();
    const views = this.views(now);
    const chosen = pickVictim(views, spare, now);
    this.warnFull(chosen !== null);
    return chosen;
  }

  private *views(now: number): Generator<readonly [Socket, ConnView]> {
    if (!this.open) return;
    for (const socket of this.open) yield [socket, this.view(socket, now).conn];
  }

  private progress(socket: Socket, now: number): Progress {
    let p = this.seen.get(socket);
    if (!p) {
      p = { acceptedAt: now, bytesRead: 0, readAt: now, flushed: 0, writeAt: now };
      this.seen.set(socket, p);
    }
    return p;
  }

  private view(socket: Socket, now: number): { conn: ConnView; res: ServerResponse | null } {
    const p = this.progress(socket, now);
    if (socket.bytesRead !== p.bytesRead) {
      p.bytesRead = socket.bytesRead;
      p.readAt = now;
    }
    const sending = socket.writableLength > 0;
    const flushed = flushedBytes(socket);
    if (!sending || flushed !== p.flushed) {
      p.flushed = flushed;
      p.writeAt = now;
    }
    const res = currentResponse(socket);
    const req = res?.req;
    const http = secureSocketOf.get(socket) ?? socket;
    return {
      res,
      conn: {
        responding: res !== null || (h2Connections.get(http)?.streams() ?? 0) > 0,
        readingBody: req !== undefined && !req.complete && req.readableLength === 0,
        sending,
        served: (http.bytesWritten ?? 0) > 0 && res === null,
        untouched: http.bytesRead === 0,
        acceptedAt: p.acceptedAt,
        readAt: p.readAt,
        writeAt: p.writeAt,
      },
    };
  }

  private sweep(): void {
    const open = this.open;
    if (!open) return;
    const now = Date.now();
    for (const socket of open) {
      const view = this.view(socket, now);
      const verdict = judge(view.conn, now, this.opts.limits);
      if (verdict === 'keep') continue;
      this.opts.logger.debug({ verdict }, `closing a slow client (${verdict} timeout)`);
      if (verdict === 'body' && view.res && !view.res.headersSent)
        this.opts.answerBodyTimeout(view.res);
      else socket.destroy();
    }
    if (this.incident && open.size < this.opts.maxConnections * 0.9) {
      this.incident = false;
      this.opts.logger.info(
        { connections: open.size },
        'below worker-connections again: connection slots free',
      );
    }
  }

  /** Slot exhaustion is worth a warning once per incident, not once per connection. */
  private warnFull(canMakeRoom: boolean): void {
    if (this.incident) return;
    this.incident = true;
    this.opts.logger.warn(
      { connections: this.open?.size ?? 0, workerConnections: this.opts.maxConnections },
      canMakeRoom
        ? 'worker-connections reached: closing the connections that send nothing first'
        : 'worker-connections reached with every connection in a request: not accepting',
    );
  }
}
