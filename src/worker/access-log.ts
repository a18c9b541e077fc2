import type { IncomingMessage, ServerResponse } from 'node:http';
import { logFileError } from '../errors.js';
import { compileFormat, DEFAULT_FORMAT, jsonLine } from '../log/access-format.js';
import { ACCESS_LOG_MAX_BYTES, boundedDestination } from '../log/bounded-destination.js';
import { openAppend, swapFd } from '../log/open-append.js';

export interface AccessLog {
  record(req: IncomingMessage, res: ServerResponse): void;
  flush(): void;
  reopen(): void;
  /** Lines dropped because the log's reader (a full pipe) was too far behind. */
  dropped(): number;
}

/** Opened here, never through a planted link (log/open-append.ts): a failure is a boot error. */
function openAccessLog(file: string): number {
  try {
    return openAppend(file);
  } catch (err) {
    throw logFileError('--access-logfile', file, err);
  }
}

/**
 * Buffered writes (sonic-boom): the request path only formats a line and appends it. Resolves
 * once the file is open: the destination opens it asynchronously, and until then it has no
 * descriptor (a flush would throw), so the worker is not ready before. A file this worker cannot
 * open rejects: a boot error, not an 'error' event that kills every worker. A reader that does not
 * keep up (a full pipe) gets at most ACCESS_LOG_MAX_BYTES waiting, then lines are dropped and
 * counted (log/bounded-destination.ts), and at exit what it does not take within a moment is lost.
 */
export async function createAccessLog(opts: {
  file: string;
  format: string | null;
  json: boolean;
  /** A failed write or reopen (the file keeps its old descriptor): logged, never a crash. */
  onError: (err: Error) => void;
  /** Lines were dropped: called with the count since the last call, at most every few seconds. */
  onDropped: (dropped: number) => void;
}): Promise<AccessLog> {
  const line = opts.json ? jsonLine : compileFormat(opts.format ?? DEFAULT_FORMAT);
  const { stream: dest, drops } = boundedDestination({
    fd: opts.file === '-' ? 1 : openAccessLog(opts.file),
    sync: false,
    minLength: 4096,
    maxBytes: ACCESS_LOG_MAX_BYTES,
  });
  const opened = await new Promise<Error | null>((resolve) => {
    const onReady = () => settle(null);
    const onFailed = (err: Error) => settle(err);
    const settle = (err: Error | null) => {
      dest.off('ready', onReady).off('error', onFailed);
      resolve(err);
    };
    dest.once('ready', onReady).once('error', onFailed);
  });
  if (opened) {
    // pino flushes the destination at exit, which throws when it never opened: nothing to flush.
    dest.flushSync = () => {};
    throw logFileError('--access-logfile', opts.file, opened);
  }
  dest.on('error', opts.onError);
  const reportDrops = () => {
    const dropped = drops.due(Date.now());
    if (dropped > 0) opts.onDropped(dropped);
  };
  // Dropping starts: said at once; while it goes on, at most once per DROP_WARNING_MS.
  dest.on('drop', reportDrops);
  const timer = setInterval(() => {
    dest.flush();
    reportDrops();
  }, 1000);
  timer.unref();
  return {
    record(req, res) {
      const started = performance.now();
      res.once('finish', () =>
        dest.write(
          `${line({ req, res, at: new Date(), durationMs: performance.now() - started })}\n`,
        ),
      );
    },
    // Bounded in time, and never throws (bounded-destination.ts): exiting must not fail on it.
    flush: () => dest.flushSync(),
    dropped: () => drops.total,
    reopen: () => {
      if (opts.file === '-') return;
      try {
        swapFd(dest, openAppend(opts.file));
      } catch (err) {
        opts.onError(err as Error);
      }
    },
  };
}
