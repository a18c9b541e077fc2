/** Starting one row, checking its body, and measuring it with wrk and httperf. */
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
// The tests' port probe: one copy for both.
import { freePort } from '../test/helpers/http.js';
import {
  type HttperfResult,
  parseH2load,
  parseHttperf,
  parseWrk,
  type Summary,
  summarize,
  type WrkResult,
} from './parse.js';
import { has, PATH, pin, type RowDef } from './rows.js';

export interface Options {
  quick: boolean;
  only: string[] | null;
  runs: number;
  duration: number;
  connections: number;
  warmup: number;
  httperfConns: number;
  httperfRate: number;
}

export function fetchBody(url: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

/** Polls (there is no readiness event from another program) until the first 200, with a deadline. */
export async function firstResponse(
  url: string,
  child: ChildProcess,
  deadlineMs = 30_000,
  pollMs = 10,
): Promise<Buffer> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetchBody(url);
      if (r.status === 200) return r.body;
    } catch {
      // Not accepting yet.
    }
    if (Date.now() > deadline) throw new Error('no 200 within 30 s');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function rssMiB(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Linux clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
export const CLOCK_TICKS = 100;

/** User + system CPU ticks of every process in a process group (a server and its workers). */
export function groupCpuTicks(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // After the command: state(0) ppid(1) pgrp(2) ... utime(11) stime(12) cutime(13) cstime(14)
      if (Number(fields[2]) === pgid) total += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The process ended while we read.
    }
  }
  return total;
}

const wrkArgv = (url: string, seconds: number, connections: number, keepAlive: boolean) =>
  pin(1, [
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...(keepAlive ? [] : ['-H', 'Connection: close']),
    url,
  ]);

/** h2load over h2c: `connections` clients, 10 streams each, for `seconds`. */
const h2loadArgv = (url: string, seconds: number, connections: number) =>
  pin(1, ['h2load', '-D', String(seconds), '-c', String(connections), '-m', '10', url]);

export function runH2load(url: string, seconds: number, connections: number): WrkResult {
  const argv = h2loadArgv(url, seconds, connections);
  return parseH2load(
    execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 }),
  );
}

export function runWrk(
  url: string,
  seconds: number,
  connections: number,
  keepAlive = false,
): WrkResult {
  const argv = wrkArgv(url, seconds, connections, keepAlive);
  return parseWrk(
    execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 }),
  );
}

/** runWrk without blocking, so that several load generators run at once. */
/**
 * wrk, or h2load for an HTTP/2 row (`keepAlive: 'h2'`), run without blocking: `--compare
 * --together` runs one per server at once.
 */
export function runWrkAsync(
  url: string,
  seconds: number,
  connections: number,
  keepAlive: boolean | 'h2' = false,
): Promise<WrkResult> {
  const argv =
    keepAlive === 'h2'
      ? h2loadArgv(url, seconds, connections)
      : wrkArgv(url, seconds, connections, keepAlive);
  const parse = keepAlive === 'h2' ? parseH2load : parseWrk;
  return new Promise((resolve, reject) => {
    execFile(
      argv[0]!,
      argv.slice(1),
      { encoding: 'utf8', timeout: (seconds + 30) * 1000 },
      (err, stdout) => {
        if (err) reject(err);
        else {
          try {
            resolve(parse(stdout));
          } catch (parseErr) {
            reject(parseErr);
          }
        }
      },
    );
  });
}

export function runHttperf(port: number, conns: number, rate: number): HttperfResult | null {
  const argv = pin(1, [
    'httperf',
    '--hog',
    '--server',
    '127.0.0.1',
    '--port',
    String(port),
    '--uri',
    PATH,
    '--num-conns',
    String(conns),
    '--rate',
    String(rate),
    '--timeout',
    '5',
  ]);
  const out = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  try {
    return parseHttperf(`${out.stdout}${out.stderr}`);
  } catch (err) {
    // A stalled httperf (killed at the timeout) must not lose the other rows of a 15-minute run.
    process.stderr.write(
      `bench: ${(err as Error).message.split('\n')[0]} (row kept, no httperf figure)\n`,
    );
    return null;
  }
}

export interface RowResult {
  readonly id: string;
  readonly label: string;
  readonly skipped: string | null;
  readonly throughput?: Summary;
  readonly runs?: number[];
  readonly p50Ms?: number | null;
  readonly p99Ms?: number | null;
  readonly errors?: number;
  readonly readErrors?: number;
  readonly httperf?: HttperfResult | null;
  readonly rootRssMiB?: number | null;
  readonly firstResponseMs?: number;
  readonly bodySha256?: string;
  /** What the row's companion client did during the runs (rows.ts RowCommand.companion). */
  readonly companion?: CompanionCounts | null;
}

export type CompanionCounts = Record<string, number>;

export interface Started {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly firstResponseMs: number;
  readonly sha: string;
  readonly companion?: ChildProcess;
}

/** Start a row's companion on CPU 1 and wait (with a deadline) for its `ready` line. */
function startCompanion(argv: string[]): Promise<ChildProcess> {
  const full = pin(1, argv);
  const child = spawn(full[0]!, full.slice(1), {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('companion not ready within 10 s')), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      stopRow(child);
      reject(err);
    };
    const onData = (c: Buffer) => {
      out += c.toString();
      if (!out.includes('ready\n')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(child);
    };
    child.stdout!.on('data', onData);
    child.on('exit', (code) => fail(new Error(`companion exited with ${code}`)));
  });
}

/** Stop a server's companion, if it has one: its counts, or null when it printed none. */
export function stopCompanion(s: Started): Promise<CompanionCounts | null> {
  const c = s.companion;
  if (!c || c.exitCode !== null) return Promise.resolve(null);
  return new Promise((resolve) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.removeAllListeners('exit');
    c.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as CompanionCounts);
      } catch {
        resolve(null);
      }
    });
    c.kill('SIGTERM');
  });
}

/**
 * Start a row's server on CPU 0 and wait for its first 200, which must carry the expected body;
 * or say why the row is skipped. The one way both the table and --compare start servers.
 */
export async function startRow(
  row: RowDef,
  expectedSha: string,
  /** How often to try for the first 200 (the start-up comparison polls finer). */
  pollMs = 10,
  /** On CPU 0 (the throughput rows, wrk runs on the other CPUs) or on every CPU (start-up). */
  pinned = true,
): Promise<Started | { skipped: string }> {
  const port = await freePort();
  const command = row.command(port);
  if (typeof command === 'string') return { skipped: command };
  const argv = pinned ? pin(0, command.argv) : command.argv;
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...command.env },
    detached: true,
    stdio: 'ignore',
  });
  try {
    const url = `http://127.0.0.1:${port}${PATH}`;
    const body = await firstResponse(url, child, 30_000, pollMs);
    const firstResponseMs = performance.now() - started;
    const sha = createHash('sha256').update(body).digest('hex');
    if (sha !== expectedSha)
      throw new Error(`${row.id} serves a different body (${body.length} bytes)`);
    const companion = command.companion ? await startCompanion(command.companion) : undefined;
    return { url, port, child, firstResponseMs, sha, ...(companion ? { companion } : {}) };
  } catch (err) {
    stopRow(child);
    throw err;
  }
}

/** Servers run in their own process group: kill all of it (uWSGI and PM2 fork their own). */
export function stopRow(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export async function measure(row: RowDef, opts: Options, expectedSha: string): Promise<RowResult> {
  const server = await startRow(row, expectedSha);
  if ('skipped' in server) return { id: row.id, label: row.label, skipped: server.skipped };
  const { url, port, child, firstResponseMs, sha } = server;
  let companion: CompanionCounts | null = null;
  try {
    const ka = row.keepAlive === true || row.h2 === true;
    const load = (seconds: number) =>
      row.h2
        ? runH2load(url, seconds, opts.connections)
        : runWrk(url, seconds, opts.connections, ka);
    if (opts.warmup > 0) load(opts.warmup);
    const results: WrkResult[] = [];
    for (let i = 0; i < opts.runs; i++) results.push(load(opts.duration));
    const rootRssMiB = rssMiB(child.pid!);
    // httperf is the no-keep-alive reference load (one request per connection) only.
    let httperf: HttperfResult | null = null;
    if (has('httperf') && !ka) httperf = runHttperf(port, opts.httperfConns, opts.httperfRate);
    companion = await stopCompanion(server);
    const runs = results.map((r) => r.requestsPerSec);
    const p = (k: 'p50Ms' | 'p99Ms') => summarize(results.map((r) => r[k] ?? Number.NaN)).median;
    return {
      id: row.id,
      label: row.label,
      skipped: null,
      throughput: summarize(runs),
      runs,
      p50Ms: p('p50Ms'),
      p99Ms: p('p99Ms'),
      errors: results.reduce((a, r) => a + r.errors, 0),
      readErrors: results.reduce((a, r) => a + r.readErrors, 0),
      httperf,
      rootRssMiB,
      firstResponseMs,
      bodySha256: sha,
      ...(server.companion ? { companion } : {}),
    };
  } finally {
    if (server.companion) stopRow(server.companion);
    stopRow(child);
  }
}
