/** Gunicorn's access log format: its atoms, compiled once; and the JSON alternative. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writtenHeader } from '../platform/socket-state.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `[25/Nov/2026:22:48:58 +0000]`, Gunicorn's %(t)s. */
export function formatTime(d: Date): string {
  const offset = -d.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const abs = Math.abs(offset);
  return `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`;
}

export const DEFAULT_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"';

/** One finished request, as the atoms see it. */
export interface AccessEntry {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly at: Date;
  readonly durationMs: number;
}

/**
 * Gunicorn's %(b)s. Headers passed to writeHead() are not kept in the response's header map, so
 * fall back to the header block Node wrote (`_header`, stable since Node 0.x).
 */
function responseLength(res: ServerResponse): string | null {
  const declared = res.getHeader('content-length');
  if (declared !== undefined) return String(declared);
  const written = writtenHeader(res);
  return written ? (/\r\ncontent-length: *(\d+)/i.exec(written)?.[1] ?? null) : null;
}

function basicUser(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (!auth?.startsWith('Basic ')) return '-';
  const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
  return decoded.slice(0, Math.max(0, decoded.indexOf(':'))) || '-';
}

const dash = (v: string | string[] | number | undefined | null) =>
  v === undefined || v === null || v === '' ? '-' : Array.isArray(v) ? v.join(', ') : String(v);
const path = (url: string | undefined) => (url ?? '/').split('?')[0]!;
const query = (url: string | undefined) => {
  const q = (url ?? '').indexOf('?');
  return q < 0 ? '' : (url ?? '').slice(q + 1);
};

type Atom = (e: AccessEntry) => string;

/** Gunicorn's access log atoms. */
const ATOMS: Record<string, Atom> = {
  h: (e) => dash(e.req.socket.remoteAddress),
  l: () => '-',
  u: (e) => basicUser(e.req),
  t: (e) => formatTime(e.at),
  r: (e) => `${e.req.method} ${e.req.url} HTTP/${e.req.httpVersion}`,
  m: (e) => dash(e.req.method),
  U: (e) => path(e.req.url),
  q: (e) => query(e.req.url),
  H: (e) => `HTTP/${e.req.httpVersion}`,
  s: (e) => String(e.res.statusCode),
  B: (e) => responseLength(e.res) ?? '0',
  b: (e) => responseLength(e.res) ?? '-',
  f: (e) => dash(e.req.headers.referer),
  a: (e) => dash(e.req.headers['user-agent']),
  T: (e) => String(Math.floor(e.durationMs / 1000)),
  M: (e) => String(Math.round(e.durationMs)),
  D: (e) => String(Math.round(e.durationMs * 1000)),
  L: (e) => (e.durationMs / 1000).toFixed(6),
  p: () => `<${process.pid}>`,
};

/**
 * Compile a format once into literal parts and atom functions, so a request only runs the atoms.
 * Unknown atoms are an error at start, naming the atom.
 */
export function compileFormat(format: string): (e: AccessEntry) => string {
  const parts: (string | Atom)[] = [];
  const re = /%\(([^)]+)\)s/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    parts.push(format.slice(last, m.index));
    const name = m[1]!;
    const header = /^\{(.+)\}([ioe])$/.exec(name);
    if (header) {
      const key = header[1]!.toLowerCase();
      const kind = header[2];
      parts.push(
        kind === 'i'
          ? (e) => dash(e.req.headers[key])
          : kind === 'o'
            ? (e) => dash(e.res.getHeader(key) as string | number | string[] | undefined)
            : () => dash(process.env[header[1]!]),
      );
    } else if (ATOMS[name]) {
      parts.push(ATOMS[name]);
    } else {
      throw new Error(`unknown atom %(${name})s`);
    }
    last = m.index + m[0].length;
  }
  parts.push(format.slice(last));
  return (e) => {
    let line = '';
    for (const p of parts) line += typeof p === 'string' ? p : p(e);
    return line;
  };
}

/** --access-log-json: one object per request. */
export function jsonLine(e: AccessEntry): string {
  return JSON.stringify({
    time: e.at.toISOString(),
    remote_addr: e.req.socket.remoteAddress ?? null,
    method: e.req.method,
    path: path(e.req.url),
    query: query(e.req.url),
    protocol: `HTTP/${e.req.httpVersion}`,
    status: e.res.statusCode,
    bytes: Number(responseLength(e.res) ?? 0),
    referer: e.req.headers.referer ?? null,
    user_agent: e.req.headers['user-agent'] ?? null,
    duration_ms: Math.round(e.durationMs * 1000) / 1000,
    pid: process.pid,
  });
}
