import type { Readable } from 'node:stream';

/** Calls fn with each record of a text stream that ends with `separator` (a partial one waits). */
export function onRecords(stream: Readable, separator: string, fn: (record: string) => void): void {
  let buffer = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split(separator);
    buffer = parts.pop()!;
    for (const part of parts) fn(part);
  });
}
