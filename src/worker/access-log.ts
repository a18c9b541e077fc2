import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `[25/Nov/2026:22:48:58 +0000]`, Gunicorn's %(t)s. */
export function formatTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`;
}

/** Gunicorn's default: %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" */
/**
 * Gunicorn's %(b)s. Headers passed to writeHead() are not kept in the response's header map, so
 * fall back to the header block Node wrote (`_header`, stable since Node 0.x).
 */
function responseLength(res: ServerResponse): string {
  const declared = res.getHeader('content-length');
  if (declared !== undefined) return String(declared);
  const written = (res as ServerResponse & { _header?: string | null })._header;
  return written ? (/\r\ncontent-length: *(\d+)/i.exec(written)?.[1] ?? '-') : '-';
}

export function formatAccessLine(req: IncomingMessage, res: ServerResponse, at: Date): string {
  const length = responseLength(res);
  const referer = req.headers.referer ?? '-';
  const agent = req.headers['user-agent'] ?? '-';
  const user = '-';
  return `${req.socket.remoteAddress ?? '-'} - ${user} ${formatTime(at)} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${length} "${referer}" "${agent}"\n`;
}

export interface AccessLog {
  record(req: IncomingMessage, res: ServerResponse): void;
  flush(): void;
  reopen(): void;
}

/** Buffered writes (sonic-boom): the request path only formats a line and appends it. */
export function createAccessLog(file: string): AccessLog {
  const dest =
    file === '-'
      ? pino.destination({ fd: 1, sync: false, minLength: 4096 })
      : pino.destination({ dest: file, append: true, mkdir: true, sync: false, minLength: 4096 });
  const timer = setInterval(() => dest.flush(), 1000);
  timer.unref();
  return {
    record(req, res) {
      res.once('finish', () => dest.write(formatAccessLine(req, res, new Date())));
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
