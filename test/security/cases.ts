/**
 * The security suite's raw-socket cases: what an attacker sends, and the answer tsgun must give
 * in each mode, direct (workers accept) and --router (the router parses, then proxies): a
 * status, then the connection closed, the app never sees a smuggled second request, and where a
 * case names them, the headers the app sees.
 * `test/security/http-attacks.test.ts` asserts them; `npm run security:readme` writes the table.
 */
import { connect } from 'node:net';

export type Mode = 'direct' | 'router';
export const MODES: readonly Mode[] = ['direct', 'router'];

/** Header values the app must see (null: absent), read from the fixture's GET /headers. */
export type AppSees = Readonly<Record<string, string | null>>;

export interface Expected {
  /** The status of the first (and only) response; the connection must then close. */
  readonly status: number;
  readonly appSees?: AppSees;
}

export interface AttackCase {
  readonly id: string;
  readonly what: string;
  /** Where it is sent: the app's port, or the --stats server. */
  readonly target: 'app' | 'stats';
  readonly raw: string;
  /** The answer in both modes, unless `router` says otherwise for --router. */
  readonly status: number;
  readonly appSees?: AppSees;
  readonly router?: Expected;
}

/** What `c` must get in `mode`. */
export function expected(c: AttackCase, mode: Mode): Expected {
  if (mode === 'router' && c.router) return c.router;
  return c.appSees ? { status: c.status, appSees: c.appSees } : { status: c.status };
}

/** A forged address header set, as a client that is no proxy would send it. */
const FORGED = {
  'x-forwarded-for': '203.0.113.66',
  'x-forwarded-proto': 'https',
  'x-forwarded-host': 'evil.example',
  forwarded: 'for=203.0.113.66;proto=https;host=evil.example',
  'x-real-ip': '203.0.113.66',
};
const forgedHeaders = Object.entries(FORGED)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');
/** The router replaces X-Forwarded-* with what it saw and drops the rest (peer untrusted). */
const ROUTER_SETS = {
  'x-forwarded-for': '127.0.0.1',
  'x-forwarded-proto': 'http',
  'x-forwarded-host': 'localhost',
  forwarded: null,
  'x-real-ip': null,
};

const H = 'Host: localhost\r\n';
const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n';

export const CASES: readonly AttackCase[] = [
  {
    id: 'cl-te',
    what: 'CL.TE: Content-Length and Transfer-Encoding: chunked, a request hidden after the chunks',
    target: 'app',
    raw: `POST /echo HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`,
    status: 400,
  },
  {
    id: 'te-cl',
    what: 'TE.CL: Transfer-Encoding: chunked before a short Content-Length',
    target: 'app',
    raw: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${(smuggled.length + 0).toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    id: 'dup-cl',
    what: 'Two different Content-Length headers',
    target: 'app',
    raw: `POST /echo HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    status: 400,
  },
  {
    id: 'te-identity',
    what: 'Transfer-Encoding: chunked, identity (chunked not last)',
    target: 'app',
    raw: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${smuggled}`,
    status: 400,
  },
  {
    id: 'obs-fold',
    what: 'obs-fold: a header continued on the next line',
    target: 'app',
    raw: `GET / HTTP/1.1\r\n${H}X-Folded: a\r\n b\r\n\r\n`,
    status: 400,
  },
  {
    id: 'space-name',
    what: 'A space inside a header name',
    target: 'app',
    raw: `GET / HTTP/1.1\r\n${H}X Bad: 1\r\n\r\n`,
    status: 400,
  },
  {
    id: 'space-colon',
    what: 'Transfer-Encoding with a space before the colon',
    target: 'app',
    raw: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    id: 'two-host',
    what: 'Two Host headers',
    target: 'app',
    raw: `GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    // Direct: Node's parser takes the first (the app sees both in rawHeaders). The router answers
    // it (RFC 9112 3.2) rather than proxy it.
    status: 200,
    router: { status: 400 },
  },
  {
    id: 'bad-chunk-size',
    what: 'A malformed chunk size in a chunked body',
    target: 'app',
    raw: `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    id: 'options-star',
    what: 'OPTIONS * (a request target that is not a path)',
    target: 'app',
    raw: `OPTIONS * HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    // Direct: the app gets it. The router cannot pass such a target on: it answers it itself.
    status: 200,
    router: { status: 400 },
  },
  {
    id: 'line',
    what: 'Request line over --limit-request-line (4094)',
    target: 'app',
    raw: `GET /${'a'.repeat(4100)} HTTP/1.1\r\n${H}\r\n`,
    status: 414,
  },
  {
    id: 'field',
    what: 'A header field over --limit-request-field-size (8190)',
    target: 'app',
    raw: `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(8200)}\r\n\r\n`,
    status: 431,
  },
  {
    id: 'fields',
    what: 'More fields than --limit-request-fields (100)',
    target: 'app',
    raw: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 101 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`,
    status: 431,
  },
  {
    id: 'header-block',
    what: "A header block over Node's 16 KiB cap, each field within the limits",
    target: 'app',
    raw: `GET / HTTP/1.1\r\n${H}${Array.from({ length: 3 }, (_, i) => `X-${i}: ${'a'.repeat(7000)}\r\n`).join('')}\r\n`,
    status: 431,
  },
  {
    id: 'fields-at-limit',
    what: 'Exactly --limit-request-fields (100) fields: the router adds X-Forwarded-* on its way',
    target: 'app',
    raw: `GET /headers HTTP/1.1\r\n${H}Connection: close\r\n${Array.from({ length: 98 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`,
    status: 200,
    appSees: { 'x-97': '1' },
  },
  {
    id: 'forged-forwarded',
    what: 'X-Forwarded-For/-Proto/-Host, Forwarded and X-Real-IP from an untrusted peer',
    target: 'app',
    raw: `GET /headers HTTP/1.1\r\n${H}Connection: close\r\n${forgedHeaders}\r\n`,
    // Direct: no proxy in front, the app gets the client's bytes (as under Gunicorn) and its
    // peer from the socket; it must not trust these headers.
    status: 200,
    appSees: FORGED,
    router: { status: 200, appSees: ROUTER_SETS },
  },
  {
    id: 'forged-repeated',
    what: 'X-Forwarded-For and Forwarded twice each (an attempt to be joined with the real ones)',
    target: 'app',
    raw: `GET /headers HTTP/1.1\r\n${H}Connection: close\r\nX-Forwarded-For: 203.0.113.1\r\nForwarded: for=203.0.113.1\r\nX-Forwarded-For: 203.0.113.2\r\nForwarded: for=203.0.113.2\r\n\r\n`,
    status: 200,
    appSees: { 'x-forwarded-for': '203.0.113.1, 203.0.113.2' },
    router: { status: 200, appSees: { 'x-forwarded-for': '127.0.0.1', forwarded: null } },
  },
  {
    id: 'connection-names-forwarded',
    what: 'Connection: close, X-Forwarded-For (asking the proxy to drop the real one)',
    target: 'app',
    raw: `GET /headers HTTP/1.1\r\n${H}Connection: close, X-Forwarded-For\r\nX-Forwarded-For: 203.0.113.66\r\n\r\n`,
    status: 200,
    appSees: { 'x-forwarded-for': '203.0.113.66' },
    router: { status: 200, appSees: { 'x-forwarded-for': '127.0.0.1' } },
  },
  {
    id: 'stats-post',
    what: 'Stats server: POST /',
    target: 'stats',
    raw: `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nConnection: close\r\n\r\n`,
    status: 405,
  },
  {
    id: 'stats-delete',
    what: 'Stats server: DELETE /metrics',
    target: 'stats',
    raw: `DELETE /metrics HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    status: 405,
  },
  {
    id: 'stats-traversal',
    what: 'Stats server: GET /../../etc/passwd',
    target: 'stats',
    raw: `GET /../../etc/passwd HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    status: 404,
  },
  {
    id: 'stats-unknown',
    what: 'Stats server: GET /admin',
    target: 'stats',
    raw: `GET /admin HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    status: 404,
  },
];

export interface Outcome {
  /** The first response's status, 0 if none. */
  readonly status: number;
  /** The first response's body (the fixture's GET /headers answers with what the app saw). */
  readonly body: string;
  /** How many responses came (a smuggled request would make it two). */
  readonly responses: number;
  /** The server closed the connection. */
  readonly closed: boolean;
}

/** Send one case's bytes and read until the server closes (or 5 s pass: not closed). */
export function runCase(port: number, raw: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(raw));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      data += c;
    });
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const statuses = [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      const body = data.slice(data.indexOf('\r\n\r\n') + 4);
      resolve({ status: statuses[0] ?? 0, body, responses: statuses.length, closed });
    };
    const timer = setTimeout(() => done(false), 5000);
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
  });
}

/** Where the outcome differs from what the app must see: one line per header, empty if none. */
export function appSeesWrong(want: AppSees | undefined, o: Outcome): string[] {
  if (!want) return [];
  let seen: Record<string, string | string[] | undefined>;
  try {
    seen = (JSON.parse(o.body) as { headers: typeof seen }).headers;
  } catch {
    return ["the app's view of the headers was not returned"];
  }
  return Object.entries(want)
    .filter(([name, value]) => (seen[name] ?? null) !== value)
    .map(
      ([name, value]) =>
        `${name}: ${JSON.stringify(seen[name] ?? null)} (expected ${JSON.stringify(value)})`,
    );
}
