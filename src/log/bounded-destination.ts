import pino from 'pino';
import { setNonBlocking } from '../platform/streams.js';

/**
 * A log destination whose reader may stop reading: tsgun's stdout or stderr is a pipe that
 * nobody drains (a supervisor that never reads it, `tsgun | less` left on one page). A write to a
 * full non-blocking pipe answers EAGAIN, and pino's SonicBoom then keeps every line in memory
 * without limit and retries forever: an asynchronous destination grows the process, a
 * synchronous one sleeps and retries in a loop (the process stops), and the flush at exit
 * never ends. Here at most `maxBytes` wait for the reader; a line beyond is dropped and counted.
 * A synchronous destination never waits: it tries again at its next line or after RETRY_MS.
 * At exit a destination writes what the reader takes within EXIT_FLUSH_MS, then gives up.
 */

/** What the access log holds for a reader that is behind, before it drops lines. */
export const ACCESS_LOG_MAX_BYTES = 4 * 1024 * 1024;
/** The same for an error log: its lines are few, and the master must never hold many. */
export const ERROR_LOG_MAX_BYTES = 1024 * 1024;
/** How long a process about to exit waits for a slow reader to take what is left. */
export const EXIT_FLUSH_MS = 1000;
/** At most one "lines dropped" warning per this many ms per destination. */
export const DROP_WARNING_MS = 10_000;
/** A synchronous destination tries a refused write again this often while no line comes. */
const RETRY_MS = 250;

/**
 * Whether SonicBoom tries a write the pipe refused (EAGAIN) again. Pure. Asynchronously it waits
 * on a timer first (the process goes on); synchronously it would sleep the whole process, so
 * never; once the process is exiting, until `giveUpAt`.
 */
export function retryRefusedWrite(o: {
  readonly sync: boolean;
  readonly now: number;
  readonly giveUpAt: number | null;
}): boolean {
  if (o.giveUpAt !== null) return o.now < o.giveUpAt;
  return !o.sync;
}

/** Lines dropped, and when to say so (at most once per interval). Pure: the caller gives the time. */
export class DropCount {
  total = 0;
  private reported = 0;
  private warnedAt = Number.NEGATIVE_INFINITY;

  drop(): void {
    this.total++;
  }

  /** The lines dropped since the last warning, when a warning is due now; else 0. */
  due(now: number, intervalMs = DROP_WARNING_MS): number {
    const unreported = this.total - this.reported;
    if (unreported === 0 || now - this.warnedAt < intervalMs) return 0;
    this.reported = this.total;
    this.warnedAt = now;
    return unreported;
  }
}

export type Destination = ReturnType<typeof pino.destination>;

export interface BoundedDestination {
  readonly stream: Destination;
  readonly drops: DropCount;
}

/**
 * Puts stdout or stderr, when a pipe or a socket, in non-blocking mode (O_NONBLOCK), as Node does
 * when process.stdout is first used. Not once: the flag belongs to the pipe's open file, which
 * every tsgun process and their children share, and libuv clears it in each child it starts with
 * inherited stdio (a worker forked by the master, a command an app runs). On a blocking full
 * pipe a write waits for the reader: on the main thread the process stops, and in libuv's thread
 * pool it holds process.exit(), which waits for that thread. No-op for a file or a terminal.
 */
export function keepNonBlocking(fd: number): void {
  const stream = fd === 1 ? process.stdout : fd === 2 ? process.stderr : null;
  if (!stream || stream.isTTY) return;
  setNonBlocking(stream);
}

/**
 * Before each write the destination makes (a line when synchronous, a batch when not) and before
 * the flush at exit, stdout or stderr is made non-blocking again (keepNonBlocking). Log files are
 * opened non-blocking (open-append.ts) and not inherited, so they stay so.
 */
export function boundedDestination(o: {
  readonly fd: number;
  readonly sync: boolean;
  readonly minLength?: number;
  readonly maxBytes: number;
}): BoundedDestination {
  let giveUpAt: number | null = null;
  const drops = new DropCount();
  const stream = pino.destination({
    fd: o.fd,
    sync: o.sync,
    minLength: o.minLength ?? 0,
    maxLength: o.maxBytes,
    retryEAGAIN: () => retryRefusedWrite({ sync: o.sync, now: Date.now(), giveUpAt }),
  });
  stream.on('drop', () => drops.drop());
  if (o.fd === 1 || o.fd === 2) {
    // SonicBoom's own methods, not in its types: each write of a batch goes through _actualWrite.
    const own = stream as unknown as { _actualWrite(): void; write(data: string): boolean };
    const method = o.sync ? 'write' : '_actualWrite';
    const original = own[method].bind(stream) as (data?: string) => boolean;
    own[method] = ((data?: string) => {
      keepNonBlocking(o.fd);
      return original(data);
    }) as never;
  }
  if (o.sync) {
    // A refused line stays first in the buffer; without a new line it is tried again on a timer.
    let retrying = false;
    stream.on('error', () => {
      if (retrying) return;
      retrying = true;
      setTimeout(() => {
        retrying = false;
        if (giveUpAt === null) stream.write('');
      }, RETRY_MS).unref();
    });
  }
  // pino flushes an asynchronous destination at exit with flushSync; the worker's stop does too.
  const flushSync = stream.flushSync.bind(stream);
  stream.flushSync = () => {
    giveUpAt ??= Date.now() + EXIT_FLUSH_MS;
    keepNonBlocking(o.fd);
    try {
      flushSync();
    } catch {
      // The reader did not take the rest in time, or the descriptor is gone: exit all the same.
    }
  };
  return { stream, drops };
}
