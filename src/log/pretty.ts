import { isatty } from 'node:tty';

/**
 * --log-format: JSON lines for machines (a file, a pipe, journald, a log shipper), one readable
 * line per record for a person at a terminal. `auto` decides per process from its stderr, which
 * workers and the router inherit from the master, so they all decide alike.
 */
export const LOG_FORMATS = ['auto', 'pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function usePretty(format: LogFormat | undefined, file: string): boolean {
  if (format === 'pretty') return true;
  if (format === 'json') return false;
  return file === '-' && isatty(2);
}

/** Gunicorn's level names, by pino's level numbers. */
const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};
const COLOURS: Record<number, string> = { 40: '\x1b[33m', 50: '\x1b[31m', 60: '\x1b[1;31m' };
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

interface Record_ {
  level: number;
  time?: string;
  pid?: number;
  role?: string;
  worker?: number;
  workerPid?: number;
  msg?: string;
  code?: string;
  errorCode?: string;
  detail?: string;
  err?: { stack?: string; message?: string };
}

/**
 * One pino JSON line as `2026-01-02 03:04:05.678 INFO     [worker 1 4242] message [CODE]`,
 * followed by the indented lines a record may carry (a code frame, a stack).
 */
export function prettyLine(json: string, colour: boolean): string {
  let r: Record_;
  try {
    r = JSON.parse(json) as Record_;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = (r.time ?? '').replace('T', ' ').replace(/Z$/, '');
  const level = (LEVELS[r.level] ?? String(r.level)).padEnd(8);
  const who = r.role === 'worker' ? `worker ${r.worker} ${r.pid}` : `${r.role ?? '?'} ${r.pid}`;
  const code = r.code ?? r.errorCode;
  // The master's lines about a worker name it, as the worker's own lines do.
  const about =
    r.role === 'master' && r.worker !== undefined && r.workerPid !== undefined
      ? ` (worker ${r.worker}, pid ${r.workerPid})`
      : '';
  const head = `${r.msg ?? ''}${about}${code ? ` [${code}]` : ''}`;
  const more = [r.detail, r.err?.stack ?? r.err?.message].filter((t) => typeof t === 'string');
  const body = more.length ? `\n${more.join('\n').replace(/^/gm, '    ')}` : '';
  if (!colour) return `${time} ${level} [${who}] ${head}${body}\n`;
  const c = COLOURS[r.level] ?? '';
  return `${DIM}${time}${RESET} ${c}${level}${RESET} ${DIM}[${who}]${RESET} ${c}${head}${RESET}${body}\n`;
}

/** A pino destination that turns each JSON line into a readable one; `fd`: colours if a TTY. */
export function prettyDestination(
  dest: { write(chunk: string): unknown },
  fd: number | null,
): { write(chunk: string): void } {
  const colour = fd !== null && isatty(fd) && !process.env['NO_COLOR'];
  return {
    write(chunk: string) {
      const text = chunk
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => prettyLine(l, colour))
        .join('');
      // The same synchronous destination as JSON lines: nothing is lost at process.exit().
      dest.write(text);
    },
  };
}
