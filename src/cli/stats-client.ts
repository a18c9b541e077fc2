import { createRequire } from 'node:module';
import { parseBindAddress } from '../config/address.js';
import { ExitCode } from '../errors.js';
import type { StatsDocument } from '../master/stats.js';

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

function fetchStats(address: string): Promise<StatsDocument> {
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
    const req = request({ ...where, path: '/', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as StatsDocument);
        } catch {
          reject(new Error(`${address} did not answer tsgun stats JSON`));
        }
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`cannot reach tsgun stats at ${address}: ${err.code ?? err.message}`)),
    );
    req.setTimeout(3000, () => req.destroy(new Error('timed out')));
    req.end();
  });
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

/** A live view, refreshed every second, like uwsgitop; q (or Ctrl-C) quits. */
export function topCommand(address: string): Promise<number> {
  return new Promise((resolve) => {
    const tty = process.stdout.isTTY === true;
    const draw = async () => {
      let frame: string;
      try {
        frame = renderStats(await fetchStats(address));
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
