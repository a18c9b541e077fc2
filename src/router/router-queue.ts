import type { Config } from '../config/registry.js';
import type { QueueCounters } from '../ipc/protocol.js';
import type { Logger } from '../log/logger.js';
import type { Exchange } from './attempt.js';
import { RequestQueue, retryAfterSeconds, type ShedReason } from './queue.js';

const SHED_TEXT: Record<ShedReason, string> = {
  limit: 'request queue full',
  timeout: 'request queue timeout',
};

/**
 * The router's hook on its request queue: an exchange enters when it cannot be handed to a free
 * upstream connection (its worker has --worker-connections requests in flight, or no worker is
 * routable) and leaves when undici writes it to a connection, the client leaves, or it is shed.
 * Shedding answers the router's own 503 with Retry-After; the decisions are queue.ts's.
 */
export class RouterQueue {
  private readonly queue: RequestQueue;
  private readonly retryAfter: string;

  constructor(config: Config, logger: Logger) {
    const limits = { limit: config.queueLimit, timeoutMs: config.queueTimeout * 1000 };
    this.retryAfter = String(retryAfterSeconds(limits));
    this.queue = new RequestQueue(limits, (n, reason) =>
      logger.warn(
        { shed: n, reason, waiting: this.queue.waiting },
        `shed ${n} request(s) with 503: ${SHED_TEXT[reason]} (--queue-limit, --queue-timeout)`,
      ),
    );
  }

  /**
   * The exchange waits (again: its first wait's clock goes on). False when it was shed on
   * arrival: the 503 is sent, and the caller does nothing more with it.
   */
  wait(ex: Exchange): boolean {
    if (ex.queued !== null) return true;
    const ticket = this.queue.enter((reason) => this.shed(ex, reason));
    if (!ticket) {
      this.answer(ex, 'limit');
      return false;
    }
    ex.queued = ticket;
    ex.res.once('close', () => this.done(ex));
    return true;
  }

  /** It got a connection, failed, or its client left: it no longer waits. */
  done(ex: Exchange): void {
    if (ex.queued === null) return;
    this.queue.leave(ex.queued);
    ex.queued = null;
  }

  counters(): QueueCounters {
    const s = this.queue.stats();
    return {
      waiting: s.waiting,
      highWater: s.highWater,
      shedLimit: s.shed.limit,
      shedTimeout: s.shed.timeout,
    };
  }

  /** Waited too long: the attempt still queued in undici is stopped, and never written. */
  private shed(ex: Exchange, reason: ShedReason): void {
    ex.queued = null;
    ex.shed = true;
    ex.current?.abort();
    this.answer(ex, reason);
  }

  private answer(ex: Exchange, reason: ShedReason): void {
    const { res, req } = ex;
    if (res.headersSent || res.destroyed) return;
    const body = JSON.stringify({ error: SHED_TEXT[reason], status: 503 });
    // A body not yet read in full would hold the connection until it came: close it instead.
    const close = ex.hasBody && !req.complete;
    res.writeHead(503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'retry-after': this.retryAfter,
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(body);
  }
}
