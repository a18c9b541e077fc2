import type { ServerResponse } from 'node:http';

/** A short plain-text refusal (a limit, a method not served) that closes the connection. */
export function refuse(res: ServerResponse, status: number, text: string): void {
  res.shouldKeepAlive = false;
  res.writeHead(status, {
    'content-type': 'text/plain',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
