import { logFileError, type TsgunError } from '../errors.js';
import { createLogger, type LogTarget } from '../log/logger.js';

/**
 * A worker's or the router's error log. One that cannot be opened (the master prepared it, so
 * something changed since) must not crash-loop the process: the log goes to stderr, and the
 * caller reports `error` as a boot error.
 */
export function openErrorLog(opts: Parameters<typeof createLogger>[0]): {
  log: LogTarget;
  error: TsgunError | null;
} {
  try {
    return { log: createLogger(opts), error: null };
  } catch (err) {
    return {
      log: createLogger({ ...opts, file: '-' }),
      error: logFileError('--error-logfile', opts.file, err),
    };
  }
}
