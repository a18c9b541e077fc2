/**
 * The load of one open dashboard page, for the `tsgun-stats-dashboard` bench row: the requests
 * the page's script makes (src/master/stats/dashboard-page.ts), over the stats unix socket given as the
 * first argument. GET /dashboard once; then, as the page does, an EventSource on /events held for
 * the whole run, and GET / (the page's fetch('./')) again one second after each answer, with a
 * keep-alive connection as a browser keeps. Prints `ready` once the page and the stream are up,
 * and on SIGTERM one JSON line of what it did, so that the bench can check the load was real.
 */
import { Agent, get, type IncomingMessage } from 'node:http';

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write('usage: dashboard-client STATS_SOCKET\n');
  process.exit(2);
}

const counts = { page: 0, polls: 0, pollErrors: 0, pollBytes: 0, events: 0, streams: 0 };
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One GET on the stats socket: status and the whole body. */
function fetchText(
  path: string,
  timeoutMs: number,
  viaAgent = true,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(
      {
        path,
        socketPath,
        agent: viaAgent ? agent : false,
        headers: { 'cache-control': 'no-store' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
  });
}

/** The page's poll(): GET / (3 s abort), parse it as the page does, next one 1 s after. */
async function poll(): Promise<void> {
  try {
    const r = await fetchText('/', 3000);
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    JSON.parse(r.body);
    counts.polls++;
    counts.pollBytes += r.body.length;
  } catch {
    counts.pollErrors++;
  }
  setTimeout(poll, 1000);
}

/** The page's listen(): an EventSource on /events; resolves once the stream answered 200. */
function listen(): Promise<void> {
  return new Promise((resolve, reject) => {
    // A connection of its own, as a browser gives an open stream.
    const req = get(
      { path: '/events', socketPath, headers: { accept: 'text/event-stream' } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          reject(new Error(`/events: HTTP ${res.statusCode}`));
          return;
        }
        counts.streams++;
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          pending += c;
          const frames = pending.split('\n\n');
          pending = frames.pop() ?? '';
          for (const f of frames) if (/^data: /m.test(f)) counts.events++;
        });
        // The browser reconnects after `retry:`; so does this.
        res.on('end', () => setTimeout(() => listen().catch(() => {}), 1000));
        resolve();
      },
    );
    req.on('error', reject);
  });
}

process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify(counts)}\n`, () => process.exit(0));
});

const page = await fetchText('/dashboard', 5000, false);
if (page.status !== 200 || !page.body.includes('EventSource')) {
  process.stderr.write(`dashboard-client: GET /dashboard answered ${page.status}\n`);
  process.exit(1);
}
counts.page++;
await Promise.all([listen(), poll()]);
process.stdout.write('ready\n');
