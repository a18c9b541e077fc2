import type { ServerResponse } from 'node:http';
import { responseOf } from '../platform/socket-state.js';

/** A short plain-text refusal (a limit, a method not served) that closes the connection. */
export function refuse(res: ServerResponse, status: number, text: string): void {
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Answer `status` in the app's (or the upstream's) place, or cut a response already started, and
 * make late writes to that response harmless: a late writeHead would otherwise throw and crash
 * the process.
 */
export function answerInstead(res: ServerResponse, status: number, text: string): void {
  res.on('error', () => {});
  if (res.headersSent) {
    res.destroy();
  } else {
    refuse(res, status, text);
  }
  res.writeHead = () => res;
  res.setHeader = () => res;
  res.write = () => true;
  res.end = () => res;
}

/**
 * The answer to a request Node's parser rejected, as Node's own default 'clientError' gives it:
 * 431 for a header block past the cap, 408 for --header-timeout, 400 for the rest. Null when
 * nothing may be written: a response has started on the connection (bytes of it would be
 * corrupted), or the socket cannot take it.
 */
export function clientErrorAnswer(
  code: string | undefined,
  socket: { writable: boolean },
): string | null {
  if (!socket.writable || responseOf(socket)?.headersSent) return null;
  const status =
    code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
}
