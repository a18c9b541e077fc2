import { closeSync, openSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { compileFormat, DEFAULT_FORMAT, jsonLine } from '../log/access-format.js';
import { logFileError } from '../log/open-log.js';

export interface AccessLog {
  record(req: IncomingMessage, res: ServerResponse): void;
  flush(): void;
  reopen(): void;
}

/** Buffered writes (sonic-boom): the request path only formats a line and appends it. */
export function createAccessLog(opts: {
  file: string;
  format: string | null;
  json: boolean;
  /** A failed write or reopen (the file keeps its old descriptor): logged, never a crash. */
  onError: (err: Error) => void;
}): AccessLog {
  const line = opts.json ? jsonLine : compileFormat(opts.format ?? DEFAULT_FORMAT);
  // The destination opens the file asynchronously; open it once now so that a file this worker
  // cannot open is a boot error (thrown here), not an 'error' event that kills every worker.
  if (opts.file !== '-') {
    try {
      closeSync(openSync(opts.file, 'a'));
    } catch (err) {
      throw logFileError('--access-logfile', opts.file, err);
    }
  }
  const dest =
    opts.file === '-'
      ? pino.destination({ fd: 1, sync: false, minLength: 4096 })
      : pino.destination({
          dest: opts.file,
          append: true,
          mkdir: true,
          sync: false,
          minLength: 4096,
        });
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
    reopen: () => dest.reopen(),
  };
}
