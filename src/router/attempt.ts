import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { STICKY_COOKIE } from './balance.js';
import { responseHeaders } from './headers.js';
import type { Upstream } from './pool.js';

/** What the router keeps about one client request across its attempts. */
export class Exchange {
  /** The attempt in flight, aborted if the client leaves. */
  current: Attempt | null = null;
  /** --sticky cookie: the worker id to set in the tsgun_worker cookie, if it changed. */
  setSticky: number | null = null;
  /** Node's parser rejected what the client sent on (its body): the client's failure. */
  clientFailed = false;
  /** Answered 503 by the router's request queue (router-queue.ts): nothing more is sent. */
  shed = false;
  /** Its ticket while it waits in the router's request queue. */
  queued: object | null = null;
  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    /** The request head the upstream gets (raw name/value pairs). */
    readonly headers: string[],
    /** Whether the client's connection may stay open after this response. */
    readonly clientKeepAlive: boolean,
    /** The request has a body: it is streamed to the upstream and never sent twice. */
    readonly hasBody: boolean,
  ) {}
}

/** The router-wide decisions an attempt asks for. */
export interface AttemptOwner {
  /** The client connection's `Connection`/`Keep-Alive` headers for this response. */
  connectionHeaders(exchange: Exchange): readonly string[];
  /** The attempt ended: `err` null when the response was fully sent to the client. */
  settle(attempt: Attempt, err: Error | null): void;
  /** undici is writing the attempt to a connection: it no longer waits in the router's queue. */
  connected(attempt: Attempt): void;
}

/**
 * One try of a request on one upstream, as an undici dispatch handler: the response head and
 * body go straight to the client's response, with undici's flow control tied to the client's.
 */
export class Attempt implements Dispatcher.DispatchHandler {
  private abortFn: ((err?: Error) => void) | null = null;
  private resumeFn: (() => void) | null = null;
  private settled = false;
  /** The router stopped it (the client left, or was answered already). */
  aborted = false;

  constructor(
    private readonly owner: AttemptOwner,
    readonly exchange: Exchange,
    readonly upstream: Upstream,
    readonly attempt: number,
  ) {}

  /** undici wrote it to a connection (it calls onConnect then): the upstream may have it. */
  get written(): boolean {
    return this.abortFn !== null;
  }

  /** The client left: stop the upstream request (undici then calls onError). */
  abort(): void {
    this.aborted = true;
    if (this.abortFn) this.abortFn();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    this.owner.connected(this);
    if (this.exchange.res.destroyed || this.aborted) this.abort();
  }

  onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    const { exchange } = this;
    const { res } = exchange;
    if (res.destroyed || this.aborted) {
      this.abort();
      return false;
    }
    this.resumeFn = resume;
    const headers = responseHeaders(rawHeaders);
    headers.push(...this.owner.connectionHeaders(exchange));
    if (exchange.setSticky !== null)
      headers.push(
        'set-cookie',
        `${STICKY_COOKIE}=${exchange.setSticky}; Path=/; HttpOnly; SameSite=Lax`,
      );
    // HTTP/2 has no reason phrase (RFC 9113 8.3.2): Node warns on one.
    const reason = exchange.req.httpVersionMajor === 2 ? undefined : statusText || undefined;
    res.writeHead(statusCode, reason, headers);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const ok = this.exchange.res.write(chunk);
    if (!ok && this.resumeFn) this.exchange.res.once('drain', this.resumeFn);
    return ok;
  }

  onComplete(): void {
    this.exchange.res.end();
    this.finish(null);
  }

  onError(err: Error): void {
    this.finish(err);
  }

  private finish(err: Error | null): void {
    if (this.settled) return;
    this.settled = true;
    this.owner.settle(this, err);
  }
}
