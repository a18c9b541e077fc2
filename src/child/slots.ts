import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { currentResponse, secureSocketOf } from './drain.js';
import { type ConnView, judge, pickVictim, type SlowLimits } from './slot-policy.js';

/** What was last seen of a connection, to tell progress from a stall. */
interface Progress {
  bytesRead: number;
  readAt: number;
  flushed: number;
  writeAt: number;
  readonly acceptedAt: number;
}

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
  const queued = (socket as Socket & { _handle?: { writeQueueSize?: number } })._handle;
  return (socket.bytesWritten ?? 0) - socket.writableLength - (queued?.writeQueueSize ?? 0);
}

/**
 * Keeps a worker's connection slots for clients that work: picks the connection to close when the
 * worker is full (slot-policy.ts), and once a second closes slow clients that stopped making
 * progress. The cost is one map entry per connection and a walk over them each second; nothing
 * per request.
 */
export class SlotKeeper {
  private readonly seen = new Map<Socket, Progress>();
  private timer: NodeJS.Timeout | null = null;
  private incident = false;
  private sockets: Set<Socket> = new Set();

  constructor(private readonly opts: SlotKeeperOptions) {}

  /** A connection was accepted. */
  track(socket: Socket): void {
    const now = Date.now();
    this.seen.set(socket, { bytesRead: 0, readAt: now, flushed: 0, writeAt: now, acceptedAt: now });
  }

  forget(socket: Socket): void {
    this.seen.delete(socket);
  }

  /**
   * Watch the acceptor's connections: start the once-a-second sweep; `after` runs after each one
   * (the acceptor may resume accepting).
   */
  start(sockets: Set<Socket>, after: () => void): void {
    this.sockets = sockets;
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
    for (const socket of this.sockets) {
      const view = this.view(socket, now);
      if (view) yield [socket, view.conn];
    }
  }

  private view(socket: Socket, now: number): { conn: ConnView; res: ServerResponse | null } | null {
    const p = this.seen.get(socket);
    if (!p) return null;
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
        responding: res !== null,
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
    const now = Date.now();
    for (const socket of this.sockets) {
      const view = this.view(socket, now);
      if (!view) continue;
      const verdict = judge(view.conn, now, this.opts.limits);
      if (verdict === 'keep') continue;
      this.opts.logger.debug({ verdict }, `closing a slow client (${verdict} timeout)`);
      if (verdict === 'body' && view.res && !view.res.headersSent)
        this.opts.answerBodyTimeout(view.res);
      else socket.destroy();
    }
    if (this.incident && this.sockets.size < this.opts.maxConnections * 0.9) {
      this.incident = false;
      this.opts.logger.info(
        { connections: this.sockets.size },
        'below worker-connections again: connection slots free',
      );
    }
  }

  /** Slot exhaustion is worth a warning once per incident, not once per connection. */
  private warnFull(canMakeRoom: boolean): void {
    if (this.incident) return;
    this.incident = true;
    this.opts.logger.warn(
      { connections: this.sockets.size, workerConnections: this.opts.maxConnections },
      canMakeRoom
        ? 'worker-connections reached: closing the connections that send nothing first'
        : 'worker-connections reached with every connection in a request: not accepting',
    );
  }
}
