import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EventRecorder, resumeAfter, type TimelineEvent } from './event-recorder.js';

/** A client that reads slower than this much is behind for good: it is cut (it reconnects). */
const MAX_BUFFERED = 1 << 20;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/** One event as a server-sent event: its id is `PID-SEQ`, unique across a USR2's masters. */
export function sseFrame(pid: number, e: TimelineEvent): string {
  return `id: ${pid}-${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;
}

/**
 * GET /events: the master's timeline. Server-sent events by default (a browser's EventSource
 * resumes with Last-Event-ID, or `?last=PID-SEQ`); `?format=jsonl` answers the kept events as
 * JSON lines (after `?since=SEQ`) and ends, or keeps streaming them with `&follow`.
 */
export function serveEvents(
  req: IncomingMessage,
  res: ServerResponse,
  recorder: EventRecorder,
  pid: number,
): void {
  const url = new URL(req.url ?? '/', 'http://stats');
  const jsonl = url.searchParams.get('format') === 'jsonl';
  const since = Number(url.searchParams.get('since'));
  const after = jsonl
    ? Number.isSafeInteger(since) && since > 0
      ? since
      : 0
    : resumeAfter(url.searchParams.get('last') ?? req.headers['last-event-id']?.toString(), pid);
  const frame = jsonl
    ? (e: TimelineEvent) => `${JSON.stringify(e)}\n`
    : (e: TimelineEvent) => sseFrame(pid, e);
  const type = jsonl ? 'application/x-ndjson' : 'text/event-stream';
  const backlog = recorder.since(after).map(frame).join('');
  if ((jsonl && !url.searchParams.has('follow')) || req.method === 'HEAD') {
    res.writeHead(200, {
      'content-type': type,
      'content-length': Buffer.byteLength(backlog),
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : backlog);
    return;
  }
  const unsubscribe = recorder.subscribe((e) => {
    if (res.writableLength > MAX_BUFFERED) res.destroy();
    else res.write(frame(e));
  });
  if (!unsubscribe) {
    const body = '{"status":"too many event streams"}\n';
    res.writeHead(503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'retry-after': '5',
    });
    res.end(body);
    return;
  }
  res.writeHead(200, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  // retry: how soon a browser reconnects once the master (or its stats server) is back.
  res.write(`${jsonl ? '' : 'retry: 1000\n\n'}${backlog}`);
  const keepalive = setInterval(() => res.write(jsonl ? '\n' : ': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  res.on('close', () => {
    clearInterval(keepalive);
    unsubscribe();
  });
}
