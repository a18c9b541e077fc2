/**
 * The security suite's raw-socket cases: what an attacker sends, and the answer tsgun must give
 * (a status, then the connection closed, and the app never sees a smuggled second request).
 * `test/security/http-attacks.test.ts` asserts them; `npm run security:readme` writes the table.
 */
import { connect } from 'node:net';

export interface AttackCase {
  readonly id: string;
  readonly what: string;
  /** Where it is sent: the app's port, or the --stats server. */
  readonly target: 'app' | 'stats';
  readonly raw: string;
  /** The status of the first (and only) response; the connection must then close. */
  readonly status: number;
}

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
      resolve({ status: statuses[0] ?? 0, responses: statuses.length, closed });
    };
    const timer = setTimeout(() => done(false), 5000);
    socket.on('error', () => done(true));
    socket.on('close', () => done(true));
  });
}
