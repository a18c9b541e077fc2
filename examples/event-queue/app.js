// The event-queue service: a small, real web API and tsgun's benchmark subject.
//
//   POST /v1/channels/:name/events   a JSON event object or array of them -> 201 {"ids":[...]}
//   GET  /v1/channels/:name/events   ?since=<id>&limit=N -> 200 [{"id":1,"data":{...}}, ...] ([] when empty)
//   GET  /v1/health                  -> 200 {"status":"ok"}
//
// Run it under tsgun (`tsgun examples/event-queue/app.js`) or alone (`node examples/event-queue/app.js`,
// PORT and HOST apply). Events live in the worker's memory: each worker has its own queue, which is
// what the benchmark wants (one worker) and what an example can afford; it is not a shared store.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Largest POST body accepted (bytes); larger gets 413. */
export const MAX_BODY = Number(process.env.EVENT_QUEUE_MAX_BODY ?? 64 * 1024);
export const MAX_LIMIT = 1000;
export const MAX_EVENTS_PER_POST = 100;
const CHANNEL = /^\/v1\/channels\/([A-Za-z0-9_.-]{1,64})\/events$/;
const JSON_TYPE = 'application/json';

/** The `bench` channel is primed with these (~1 KB served), the same file the Python twin reads. */
export const BENCH_EVENTS = JSON.parse(
  readFileSync(fileURLToPath(new URL('./bench-events.json', import.meta.url)), 'utf8'),
);

class Channel {
  events = [];
  nextId = 1;
  /** The serialized full list, kept until the next POST: the benchmark's GET costs one write. */
  cached = null;

  add(data) {
    const id = this.nextId++;
    this.events.push({ id, data });
    this.cached = null;
    return id;
  }

  list(since, limit) {
    // Ids are increasing and dense from 1, so `since` is an index.
    const start = Math.min(this.events.length, since);
    return this.events.slice(start, start + limit);
  }

  fullBody() {
    this.cached ??= Buffer.from(JSON.stringify(this.events));
    return this.cached;
  }
}

export class EventQueue {
  channels = new Map();

  channel(name) {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = new Channel();
      this.channels.set(name, channel);
    }
    return channel;
  }
}

function send(res, status, body, extra) {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': buffer.length, ...extra });
  res.end(buffer);
}

const error = (res, status, code, message, extra) =>
  send(res, status, { error: { code, message } }, extra);

function parseQuery(query) {
  const params = new URLSearchParams(query);
  const since = params.get('since') ?? '0';
  const limit = params.get('limit') ?? String(MAX_LIMIT);
  if (!/^\d{1,15}$/.test(since))
    return { problem: 'since must be a non-negative integer (an event id)' };
  if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT) {
    return { problem: `limit must be an integer from 1 to ${MAX_LIMIT}` };
  }
  return { since: Number(since), limit: Number(limit) };
}

function validEvents(value) {
  const events = Array.isArray(value) ? value : [value];
  if (events.length === 0 || events.length > MAX_EVENTS_PER_POST) return null;
  for (const e of events) if (e === null || typeof e !== 'object' || Array.isArray(e)) return null;
  return events;
}

function readBody(req, res, onBody) {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY) {
    error(res, 413, 'too_large', `body larger than ${MAX_BODY} bytes`, { connection: 'close' });
    return;
  }
  const chunks = [];
  let size = 0;
  let done = false;
  req.on('data', (chunk) => {
    if (done) return;
    size += chunk.length;
    if (size > MAX_BODY) {
      done = true;
      error(res, 413, 'too_large', `body larger than ${MAX_BODY} bytes`, { connection: 'close' });
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (!done) onBody(Buffer.concat(chunks));
  });
}

/** A request listener over one queue; `prime` fills the `bench` channel. */
export function createApp({ prime = true } = {}) {
  const queue = new EventQueue();
  if (prime) for (const event of BENCH_EVENTS) queue.channel('bench').add(event);

  return function eventQueue(req, res) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/v1/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return error(res, 405, 'method_not_allowed', 'use GET', { allow: 'GET, HEAD' });
      return send(res, 200, { status: 'ok' });
    }
    const match = CHANNEL.exec(path);
    if (!match) return error(res, 404, 'not_found', `no route for ${path}`);
    const name = match[1];
    if (req.method === 'GET' || req.method === 'HEAD') {
      const channel = queue.channels.get(name);
      if (q < 0) return send(res, 200, channel ? channel.fullBody() : Buffer.from('[]'));
      const query = parseQuery(url.slice(q + 1));
      if (query.problem) return error(res, 400, 'invalid_query', query.problem);
      return send(res, 200, channel ? channel.list(query.since, query.limit) : []);
    }
    if (req.method === 'POST') {
      return readBody(req, res, (body) => {
        let parsed;
        try {
          parsed = JSON.parse(body.toString('utf8'));
        } catch {
          return error(res, 400, 'invalid_json', 'the body is not valid JSON');
        }
        const events = validEvents(parsed);
        if (!events) {
          return error(
            res,
            400,
            'invalid_events',
            `send an event object or an array of 1 to ${MAX_EVENTS_PER_POST} objects`,
          );
        }
        const channel = queue.channel(name);
        send(res, 201, { ids: events.map((e) => channel.add(e)) });
      });
    }
    return error(res, 405, 'method_not_allowed', 'use GET or POST', { allow: 'GET, HEAD, POST' });
  };
}

export default createApp();

// Standalone: `node examples/event-queue/app.js` serves on $HOST:$PORT (127.0.0.1:8000).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.PORT ?? 8000);
  const host = process.env.HOST ?? '127.0.0.1';
  const server = createServer(createApp());
  server.listen(port, host, () =>
    process.stdout.write(`event-queue on http://${host}:${server.address().port}\n`),
  );
}
