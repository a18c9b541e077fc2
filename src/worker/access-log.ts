import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { logFileError } from '../errors.js';
import { compileFormat, DEFAULT_FORMAT, jsonLine } from '../log/access-format.js';
import { openAppend, swapFd } from '../log/open-append.js';

export interface AccessLog {
  record(req: IncomingMessage, res: ServerResponse): void;
  flush(): void;
  reopen(): void;
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
 * open rejects: a boot error, not an 'error' event that kills every worker.
 */
export async function createAccessLog(opts: {
  file: string;
  format: string | null;
  json: boolean;
  /** A failed write or reopen (the file keeps its old descriptor): logged, never a crash. */
  onError: (err: Error) => void;
}): Promise<AccessLog> {
  const line = opts.json ? jsonLine : compileFormat(opts.format ?? DEFAULT_FORMAT);
  const dest =
    opts.file === '-'
      ? pino.destination({ fd: 1, sync: false, minLength: 4096 })
      : pino.destination({ fd: openAccessLog(opts.file), sync: false, minLength: 4096 });
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
  const timer = setInterval(() => dest.flush(), 1000);
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
    flush: () => {
      try {
        dest.flushSync();
      } catch {
        // Nothing buffered, or the file is gone: exiting must not fail on the access log.
      }
    },
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
