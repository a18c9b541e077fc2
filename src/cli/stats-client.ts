import { createRequire } from 'node:module';
import { parseBindAddress } from '../config/address.js';
import { ExitCode } from '../errors.js';
import type { TimelineEvent } from '../master/stats/event-recorder.js';
import type { StatsDocument } from '../master/stats/stats.js';

/** `tsgun stats [ADDR] [--json]` and `tsgun top [ADDR]`: clients of a running master's --stats. */

export const DEFAULT_STATS_ADDRESS = '127.0.0.1:9191';

/**
 * ADDR as --stats was given (`HOST:PORT`, `unix:PATH`) or as its URL (`http://HOST:PORT/`,
 * which is what a person copies from the log): the HOST:PORT or unix:PATH to connect to.
 */
export function statsAddress(given: string): string {
  const raw = given.trim();
  const address = /^https?:\/\//.test(raw)
    ? raw.replace(/^https?:\/\//, '').replace(/\/+$/, '')
    : raw;
  const target = parseBindAddress(address);
  if (target.kind === 'fd') throw new Error(`not a stats address: ${given}`);
  return address;
}

/** GET path on a stats address: the status and the body. */
function fetchText(address: string, path: string): Promise<{ status: number; body: string }> {
  const target = parseBindAddress(address);
  const where =
    target.kind === 'unix'
      ? { socketPath: target.path }
      : target.kind === 'tcp'
        ? { host: target.host, port: target.port }
        : null;
  if (!where) return Promise.reject(new Error(`not a stats address: ${address}`));
  return new Promise((resolve, reject) => {
    // node:http only for `tsgun stats`/`top`: the module is imported by every start.
    const { request } = createRequire(import.meta.url)('node:http') as typeof import('node:http');
    const req = request({ ...where, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot reach tsgun stats at ${address}: ${err.code ?? err.message}`)),
    );
    req.setTimeout(3000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

async function fetchStats(address: string): Promise<StatsDocument> {
  const { body } = await fetchText(address, '/');
  try {
    return JSON.parse(body) as StatsDocument;
  } catch {
    throw new Error(`${address} did not answer tsgun stats JSON`);
  }
}

/** The master's timeline after `since` (/events as JSON lines); none from a tsgun without it. */
async function fetchEvents(address: string, since: number): Promise<TimelineEvent[]> {
  const { status, body } = await fetchText(address, `/events?format=jsonl&since=${since}`);
  if (status !== 200) return [];
  return body
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as TimelineEvent);
}

/** `tsgun top`'s last events, newest last: `HH:MM:SS kind message (pid N)`. */
export function renderEvents(events: readonly TimelineEvent[]): string {
  return events
    .map((e) => {
      const pid = e.workerPid !== undefined ? ` (pid ${e.workerPid})` : '';
      return `${e.time.slice(11, 19)} ${e.kind.padEnd(14)} ${e.msg.slice(0, 100)}${pid}\n`;
    })
    .join('');
}

const pad = (v: string | number, n: number) => String(v).padStart(n);
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

/** The view both commands print: a header, the sockets, one row per worker. */
export function renderStats(doc: StatsDocument): string {
  const lines = [
    `tsgun ${doc.version}  master ${doc.pid}  up ${doc.uptimeSeconds}s  workers ${doc.workers.current}/${doc.workers.target}  spawned ${doc.counters.spawned}  respawns ${doc.counters.respawns}  reloads ${doc.counters.reloads}`,
  ];
  for (const s of doc.sockets)
    lines.push(`socket ${s.address}  listen queue ${s.queue ?? '-'}/${s.maxBacklog}`);
  lines.push(
    `${pad('ID', 4)} ${pad('PID', 7)} ${pad('STATE', 8)} ${pad('REQ', 9)} ${pad('REQ/S', 7)} ${pad('INFL', 5)} ${pad('CONN', 5)} ${pad('AVG ms', 7)} ${pad('5XX', 5)} ${pad('RSS MiB', 8)} ${pad('LAG ms', 7)}`,
  );
  for (const w of doc.worker) {
    lines.push(
      `${pad(w.id, 4)} ${pad(w.pid, 7)} ${pad(w.state, 8)} ${pad(w.requests, 9)} ${pad(w.requestsPerSec.toFixed(0), 7)} ${pad(w.inflight, 5)} ${pad(w.connections, 5)} ${pad(w.avgResponseMs.toFixed(2), 7)} ${pad(w.status5xx, 5)} ${pad(mib(w.rssBytes), 8)} ${pad(w.loopLagP99Ms.toFixed(1), 7)}`,
    );
  }
  // A line, not a column: most servers never refuse one (or run without --proxy-protocol).
  const refused =
    doc.worker.reduce((n, w) => n + w.proxyHeaderRefused, 0) +
    (doc.router?.proxyHeaderRefused ?? 0);
  if (refused > 0) lines.push(`PROXY headers refused ${refused} (connections closed)`);
  return `${lines.join('\n')}\n`;
}

export async function statsCommand(address: string, opts: { json: boolean }): Promise<number> {
  const { json } = opts;
  try {
    const doc = await fetchStats(address);
    process.stdout.write(json ? `${JSON.stringify(doc, null, 2)}\n` : renderStats(doc));
    return ExitCode.OK;
  } catch (err) {
    process.stderr.write(`tsgun: error: ${(err as Error).message}\n`);
    return ExitCode.CONFIG;
  }
}

const TOP_EVENTS = 6;

/** A live view, refreshed every second, like uwsgitop; q (or Ctrl-C) quits. */
export function topCommand(address: string): Promise<number> {
  return new Promise((resolve) => {
    const tty = process.stdout.isTTY === true;
    // The last few events of /events, which the dashboard's timeline shows too.
    let events: TimelineEvent[] = [];
    let master = 0;
    const draw = async () => {
      let frame: string;
      try {
        const doc = await fetchStats(address);
        if (doc.pid !== master) events = [];
        master = doc.pid;
        const newer = await fetchEvents(address, events.at(-1)?.seq ?? 0);
        events = [...events, ...newer].slice(-TOP_EVENTS);
        frame = `${renderStats(doc)}${events.length ? `\nevents\n${renderEvents(events)}` : ''}`;
      } catch (err) {
        frame = `${(err as Error).message}\n`;
      }
      process.stdout.write(`${tty ? '\x1b[2J\x1b[H' : ''}${frame}${tty ? '\n(q to quit)' : ''}\n`);
    };
    const timer = setInterval(draw, 1000);
    void draw();
    const quit = () => {
      clearInterval(timer);
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      resolve(ExitCode.OK);
    };
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (key: string) => {
      if (key.includes('q') || key.includes('\u0003')) quit();
    });
    process.stdin.on('end', quit);
    process.once('SIGINT', quit);
  });
}
