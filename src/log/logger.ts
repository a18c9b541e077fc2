import pino, { type Logger } from 'pino';
import { openFailure } from '../checked-open.js';
import { boundedDestination, ERROR_LOG_MAX_BYTES } from './bounded-destination.js';
import { isoTimeUtc } from './iso-time.js';
import type { LogLevel } from './levels.js';
import { openAppend, swapFd } from './open-append.js';
import { type LogFormat, prettyDestination, usePretty } from './pretty.js';

export type { Logger };

/** Gunicorn's level names, mapped onto pino's. */
const PINO_LEVEL: Record<LogLevel, pino.Level> = {
  debug: 'debug',
  info: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
};

export interface LogTarget {
  readonly logger: Logger;
  /** Reopen the file after logrotate moved it (no-op for stderr). */
  reopen(): void;
  /** Lines dropped because the reader of the log (a full pipe) did not take them. */
  dropped(): number;
}

/**
 * JSON lines with pid, role, worker id and --name. Synchronous writes: a log line written just before
 * process.exit() must not be lost (pino 10 has no pino.final). A reader that does not read (a full
 * pipe) never blocks the process: lines wait in a bounded buffer, then are dropped and counted
 * (bounded-destination.ts); the next line that gets through is followed by a warning with the count.
 */
export function createLogger(opts: {
  level: LogLevel;
  file: string;
  role: 'master' | 'worker' | 'router';
  worker?: number;
  /** --name: in every record, so the lines of several servers in one log stay apart. */
  name?: string | null;
  /** JSON lines, or readable ones (src/log/pretty.ts); default auto: readable on a terminal. */
  format?: LogFormat;
  /** Each serialized record, before it is written (the master's event recorder, --stats). */
  tee?: (line: string) => void;
}): LogTarget {
  const { stream: dest, drops } = boundedDestination({
    fd: opts.file === '-' ? 2 : openAppend(opts.file),
    sync: true,
    maxBytes: ERROR_LOG_MAX_BYTES,
  });
  const base: Record<string, unknown> = { pid: process.pid, role: opts.role };
  if (opts.name) base['name'] = opts.name;
  if (opts.worker !== undefined) base['worker'] = opts.worker;
  const out = usePretty(opts.format, opts.file)
    ? prettyDestination(dest, opts.file === '-' ? 2 : null)
    : dest;
  const tee = opts.tee;
  // With a tee (the timeline of --stats), info records are made whatever --log-level says, for
  // the tee only: the log itself still gets the records at or above --log-level.
  const wanted = pino.levels.values[PINO_LEVEL[opts.level]]!;
  const widen = tee !== undefined && wanted > pino.levels.values['info']!;
  const written = widen
    ? {
        write: (line: string) => {
          if (Number(/^\{"level":(\d+)/.exec(line)?.[1] ?? wanted) >= wanted) out.write(line);
        },
      }
    : out;
  const logger = pino(
    {
      level: widen ? 'info' : PINO_LEVEL[opts.level],
      base,
      // pino.stdTimeFunctions.isoTime's format, without a Date (iso-time.ts says why).
      timestamp: () => `,"time":"${isoTimeUtc(Date.now())}"`,
      ...(tee && {
        hooks: {
          streamWrite: (line: string) => {
            tee(line);
            return line;
          },
        },
      }),
    },
    written,
  );
  dest.on('write', () => {
    const dropped = drops.due(Date.now());
    // Not from inside the destination's write: the warning is one more line through it.
    if (dropped > 0)
      setImmediate(() =>
        logger.warn(
          { dropped, droppedTotal: drops.total },
          `dropped ${dropped} log lines: the log's reader did not take them`,
        ),
      );
  });
  // What a slow reader has not taken yet, within EXIT_FLUSH_MS.
  process.on('exit', () => dest.flushSync());
  return {
    logger,
    dropped: () => drops.total,
    reopen: () => {
      if (opts.file === '-') return;
      try {
        swapFd(dest, openAppend(opts.file));
      } catch (err) {
        // The old file stays open and written: losing lines would be worse than a late rotation.
        logger.error(
          { file: opts.file, err: openFailure(err) },
          `cannot reopen ${opts.file}: ${openFailure(err)}; still writing to the file open before`,
        );
      }
    },
  };
}
