import { once } from 'node:events';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { Logger } from '../log/logger.js';
import type { FetchApp } from './load-app.js';

const COLON = 0x3a;

/**
 * Connection-specific fields (RFC 9113 8.2.2) that an HTTP/2 response must not carry: Node's
 * Http2ServerResponse throws on them, and a fetch app may copy them from an upstream's response.
 */
const H2_FORBIDDEN = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'te',
]);

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  // HTTP/2 (--http2 in direct mode) names the host :authority; its pseudo-headers (":path"...)
  // are not header names a Request takes.
  const host = req.headers.host ?? req.headers[':authority'] ?? 'localhost';
  const url = `${scheme}://${host}${req.url ?? '/'}`;
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]!.charCodeAt(0) !== COLON) headers.append(raw[i]!, raw[i + 1]!);
  const init: RequestInit & { duplex?: 'half' } = { method: req.method ?? 'GET', headers, signal };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

async function writeResponse(res: ServerResponse, response: Response, h2: boolean): Promise<void> {
  res.statusCode = response.status;
  // HTTP/2 has no reason phrase (Node warns when one is set).
  if (response.statusText && !h2) res.statusMessage = response.statusText;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie' && !(h2 && H2_FORBIDDEN.has(key))) res.setHeader(key, value);
  });
  if (!response.body) {
    res.end();
    return;
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await once(res, 'drain');
  }
  res.end();
}

/** Serve a WHATWG `{ fetch(request) }` app (Hono and others) through Node's http server. */
export function fetchListener(app: FetchApp, logger: Logger): RequestListener {
  return (req, res) => {
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let request: Request;
    try {
      request = toRequest(req, controller.signal);
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    Promise.resolve()
      .then(() => app.fetch(request))
      .then((response) => writeResponse(res, response, req.httpVersionMajor === 2))
      .catch((err: unknown) => {
        logger.error({ err, url: req.url }, 'fetch handler failed');
        // The 500 itself may be refused (a header Node will not send): then the connection goes.
        try {
          if (res.headersSent) throw err;
          res.statusCode = 500;
          res.end();
        } catch {
          res.destroy();
        }
      });
  };
}
