/**
 * `npm run bench`: reproduces the 2012 uWSGI-vs-Gunicorn-vs-Node benchmark on this machine (see
 * the Benchmark section of README.md): one worker, no keep-alive (every request a new TCP
 * connection), GET of a channel primed with ~1 KB of JSON, load from wrk and httperf. Every row serves byte-identical
 * bodies (checked). Prints one table, writes bench/results/latest.json and SVG charts.
 *
 *   --quick          seconds, for CI smoke (1 short run per row)
 *   --only a,b       only these rows (ids: tsgun, tsgun-stats, tsgun-router, tsgun-ka, tsgun-router-ka,
 *                    proxy3-ka, node, cluster, pm2, gunicorn, uwsgi-http, uwsgi-socket)
 *   --runs N --duration S --connections C
 *   --readme         after the run, put the table into README.md (between the bench markers)
 *   --compare a,b [--pairs N]  A/B: both servers up, wrk runs alternating a b, b a, a b...; the
 *                    median of the pairwise ratios b/a (drift on a noisy machine cancels out)
 *   --render-readme  only put bench/results/latest.json's table into README.md
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { barChart } from './chart.js';
import {
  type HttperfResult,
  parseHttperf,
  parseWrk,
  type Summary,
  summarize,
  type WrkResult,
} from './parse.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PATH = '/v1/channels/bench/events';

interface Options {
  quick: boolean;
  only: string[] | null;
  runs: number;
  duration: number;
  connections: number;
  warmup: number;
  httperfConns: number;
  httperfRate: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value('--only');
  return {
    quick,
    only: only ? only.split(',') : null,
    runs: Number(value('--runs') ?? (quick ? 1 : 5)),
    duration: Number(value('--duration') ?? (quick ? 1 : 5)),
    connections: Number(value('--connections') ?? 64),
    warmup: quick ? 0 : 1,
    httperfConns: quick ? 300 : 15_000,
    httperfRate: quick ? 300 : 3000,
  };
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const pinning = has('taskset') && cpus().length >= 2;
const pin = (cpu: number, cmd: string[]) =>
  pinning ? ['taskset', '-c', String(cpu), ...cmd] : cmd;

interface RowDef {
  readonly id: string;
  readonly label: string;
  /** Clients keep connections open (the reference is no keep-alive: every request connects). */
  readonly keepAlive?: boolean;
  /** The server command, or the reason the row is skipped. */
  command(port: number): { argv: string[]; env?: NodeJS.ProcessEnv } | string;
}

/** gevent must be importable by the Python that gunicorn runs on (its shebang), not any python3. */
function gunicornHasGevent(): boolean {
  if (!has('gunicorn')) return false;
  const path = execFileSync('sh', ['-c', 'command -v gunicorn'], { encoding: 'utf8' }).trim();
  const python =
    /^#!\s*(\S+)/.exec(readFileSync(path, 'utf8').split('\n')[0] ?? '')?.[1] ?? 'python3';
  return spawnSync(python, ['-c', 'import gevent']).status === 0;
}
const pm2Runtime = join(ROOT, 'bench/.tools/node_modules/.bin/pm2-runtime');
const uwsgiArgs = (mode: '--http' | '--http-socket', port: number) => [
  'uwsgi',
  '--plugins',
  'http,python3,gevent_python3',
  mode,
  `127.0.0.1:${port}`,
  '--wsgi-file',
  join(ROOT, 'bench/python/eventqueue.py'),
  '--callable',
  'app',
  '--gevent',
  '2000',
  '-l',
  '1000',
  '-p',
  '1',
  '--disable-logging',
  '--master',
];

/** The reference conditions: one worker, backlog 1000, 2000 connections, access log off. */
const tsgunArgv = (port: number, ...extra: string[]) => [
  process.execPath,
  join(ROOT, 'bin/tsgun'),
  join(ROOT, 'examples/event-queue/app.js'),
  ...['-w', '1', '--backlog', '1000', '--worker-connections', '2000', '--log-level', 'error'],
  ...['-b', `127.0.0.1:${port}`, ...extra],
];

const ROWS: readonly RowDef[] = [
  {
    id: 'tsgun',
    label: 'tsgun -w 1 --backlog 1000 --worker-connections 2000',
    command: (port) => ({ argv: tsgunArgv(port) }),
  },
  {
    id: 'tsgun-stats',
    label: 'tsgun, same, with --stats (per-request counters on)',
    command: (port) => ({
      argv: tsgunArgv(
        port,
        '--stats',
        `unix:${join(mkdtempSync(join(tmpdir(), 'tsgun-stats-')), 'stats.sock')}`,
      ),
    }),
  },
  {
    id: 'tsgun-router',
    label: 'tsgun --router (router process + 1 worker), same',
    command: (port) => ({ argv: tsgunArgv(port, '--router') }),
  },
  {
    id: 'tsgun-ka',
    label: 'tsgun, same, keep-alive clients',
    keepAlive: true,
    command: (port) => ({ argv: tsgunArgv(port) }),
  },
  {
    id: 'tsgun-router-ka',
    label: 'tsgun --router, same, keep-alive clients',
    keepAlive: true,
    command: (port) => ({ argv: tsgunArgv(port, '--router') }),
  },
  {
    id: 'proxy3-ka',
    label: 'minimal http-proxy-3 proxy + bare Node, keep-alive clients (router baseline)',
    keepAlive: true,
    command: (port) => ({
      argv: [process.execPath, join(ROOT, 'bench/servers/proxy3.mjs')],
      env: { PORT: String(port) },
    }),
  },
  {
    id: 'node',
    label: 'bare Node http.createServer (1 process)',
    command: (port) => ({
      argv: [process.execPath, join(ROOT, 'bench/servers/bare.mjs')],
      env: { PORT: String(port) },
    }),
  },
  {
    id: 'cluster',
    label: 'Node cluster, 1 worker, round-robin',
    command: (port) => ({
      argv: [process.execPath, join(ROOT, 'bench/servers/cluster.mjs')],
      env: { PORT: String(port) },
    }),
  },
  {
    id: 'pm2',
    label: 'PM2 cluster mode -i 1 (pm2-runtime)',
    command: (port) =>
      existsSync(pm2Runtime)
        ? {
            argv: [pm2Runtime, 'start', join(ROOT, 'bench/servers/pm2-app.cjs'), '-i', '1'],
            env: { PORT: String(port), PM2_HOME: mkdtempSync(join(tmpdir(), 'pm2-')) },
          }
        : 'PM2 not installed: run bench/setup.sh',
  },
  {
    id: 'gunicorn',
    label: 'Gunicorn -w 1 -k gevent --worker-connections 2000 --backlog 1000',
    command: (port) =>
      gunicornHasGevent()
        ? {
            argv: [
              'gunicorn',
              '-b',
              `127.0.0.1:${port}`,
              '-w',
              '1',
              '-k',
              'gevent',
              '--worker-connections=2000',
              '--backlog=1000',
              '--log-level=critical',
              '--chdir',
              join(ROOT, 'bench/python'),
              'eventqueue:app',
            ],
          }
        : 'gunicorn or python3-gevent not installed: run bench/setup.sh',
  },
  {
    id: 'uwsgi-http',
    label: 'uWSGI --http (router) --gevent 2000 -l 1000 -p 1',
    command: (port) =>
      has('uwsgi')
        ? { argv: uwsgiArgs('--http', port) }
        : 'uwsgi not installed: run bench/setup.sh',
  },
  {
    id: 'uwsgi-socket',
    label: 'uWSGI --http-socket --gevent 2000 -l 1000 -p 1',
    command: (port) =>
      has('uwsgi')
        ? { argv: uwsgiArgs('--http-socket', port) }
        : 'uwsgi not installed: run bench/setup.sh',
  },
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function fetchBody(url: string): Promise<{ status: number; body: Buffer }> {
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
async function firstResponse(
  url: string,
  child: ChildProcess,
  deadlineMs = 30_000,
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
    await new Promise((r) => setTimeout(r, 10));
  }
}

function rssMiB(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Linux clock ticks per second, the unit of utime/stime in /proc/PID/stat. */
const CLOCK_TICKS = 100;

/** User + system CPU ticks of every process in a process group (a server and its workers). */
function groupCpuTicks(pgid: number): number {
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

function runWrk(url: string, seconds: number, connections: number, keepAlive = false): WrkResult {
  const argv = pin(1, [
    'wrk',
    '-t1',
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    ...(keepAlive ? [] : ['-H', 'Connection: close']),
    url,
  ]);
  return parseWrk(
    execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 }),
  );
}

function runHttperf(port: number, conns: number, rate: number): HttperfResult | null {
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

interface RowResult {
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
}

interface Started {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly firstResponseMs: number;
  readonly sha: string;
}

/**
 * Start a row's server on CPU 0 and wait for its first 200, which must carry the expected body;
 * or say why the row is skipped. The one way both the table and --compare start servers.
 */
async function startRow(row: RowDef, expectedSha: string): Promise<Started | { skipped: string }> {
  const port = await freePort();
  const command = row.command(port);
  if (typeof command === 'string') return { skipped: command };
  const argv = pin(0, command.argv);
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    env: { ...process.env, ...command.env },
    detached: true,
    stdio: 'ignore',
  });
  try {
    const url = `http://127.0.0.1:${port}${PATH}`;
    const body = await firstResponse(url, child);
    const firstResponseMs = performance.now() - started;
    const sha = createHash('sha256').update(body).digest('hex');
    if (sha !== expectedSha)
      throw new Error(`${row.id} serves a different body (${body.length} bytes)`);
    return { url, port, child, firstResponseMs, sha };
  } catch (err) {
    stopRow(child);
    throw err;
  }
}

/** Servers run in their own process group: kill all of it (uWSGI and PM2 fork their own). */
function stopRow(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function measure(row: RowDef, opts: Options, expectedSha: string): Promise<RowResult> {
  const server = await startRow(row, expectedSha);
  if ('skipped' in server) return { id: row.id, label: row.label, skipped: server.skipped };
  const { url, port, child, firstResponseMs, sha } = server;
  try {
    const ka = row.keepAlive === true;
    if (opts.warmup > 0) runWrk(url, opts.warmup, opts.connections, ka);
    const results: WrkResult[] = [];
    for (let i = 0; i < opts.runs; i++)
      results.push(runWrk(url, opts.duration, opts.connections, ka));
    const rootRssMiB = rssMiB(child.pid!);
    // httperf is the no-keep-alive reference load (one request per connection) only.
    let httperf: HttperfResult | null = null;
    if (has('httperf') && !ka) httperf = runHttperf(port, opts.httperfConns, opts.httperfRate);
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
    };
  } finally {
    stopRow(child);
  }
}

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits);

function table(rows: readonly RowResult[], opts: Options): string {
  const base = rows.find((r) => r.id === 'node')?.throughput?.median;
  const lines = [
    `| Server | req/s (median of ${opts.runs}) | min-max | std dev | p50 ms | p99 ms | errors | wrk read errors | httperf req/s @${opts.httperfRate}/s (errors) | root RSS MiB | first 200 ms | vs bare Node |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    if (r.skipped) {
      lines.push(`| ${r.label} | skipped: ${r.skipped} | | | | | | | | | | |`);
      continue;
    }
    const t = r.throughput!;
    const h = r.httperf ? `${fmt(r.httperf.requestsPerSec)} (${r.httperf.errors})` : '-';
    const ratio = base ? `${(t.median / base).toFixed(3)}` : '-';
    lines.push(
      `| ${r.label} | ${fmt(t.median)} | ${fmt(t.min)}-${fmt(t.max)} | ${fmt(t.stddev)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.errors} | ${r.readErrors} | ${h} | ${fmt(r.rootRssMiB, 1)} | ${fmt(r.firstResponseMs)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

function writeCharts(rows: readonly RowResult[]): void {
  const dir = join(ROOT, 'bench/results');
  const measured = rows.filter((r) => !r.skipped);
  writeFileSync(
    join(dir, 'throughput.svg'),
    barChart(
      'Throughput, no keep-alive (req/s, median, min-max)',
      'req/s',
      measured.map((r) => ({
        label: r.id,
        value: r.throughput!.median,
        low: r.throughput!.min,
        high: r.throughput!.max,
      })),
    ),
  );
  writeFileSync(
    join(dir, 'latency.svg'),
    barChart(
      'Response time p50 (ms, wrk)',
      'ms',
      measured.map((r) => ({ label: r.id, value: r.p50Ms ?? 0 })),
    ),
  );
  writeFileSync(
    join(dir, 'stddev.svg'),
    barChart(
      'Standard deviation of throughput across runs (req/s)',
      'req/s',
      measured.map((r) => ({ label: r.id, value: r.throughput!.stddev })),
    ),
  );
}

interface Result {
  readonly date: string;
  readonly machine: Record<string, string | number>;
  readonly headline: number | null;
  readonly statsCost?: number | null;
  readonly router?: {
    readonly keepAliveVsDirect: number | null;
    readonly closeVsDirect: number | null;
    readonly closeVsUwsgiRouter: number | null;
  };
  readonly table: string;
  readonly rows: readonly RowResult[];
}

const r3 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(3));

/** Router mode against direct mode and against uWSGI's router, from the same run. */
function routerLine(result: Result): string {
  const r = result.router;
  if (!r) return '';
  return `Router mode (same run): keep-alive clients ${r3(r.keepAliveVsDirect)}x direct mode; without keep-alive ${r3(r.closeVsDirect)}x direct mode and ${r3(r.closeVsUwsgiRouter)}x uWSGI's \`--http\` router.`;
}

/** The README's bench block: machine, table and headline, all from one result file. */
function writeReadme(result: Result): void {
  const file = join(ROOT, 'README.md');
  const m = result.machine;
  const block = [
    `Latest full run (${result.date.slice(0, 10)}): ${m['cpu']}, ${m['cores']} cores, Node ${m['node']}, Linux ${m['kernel']}; ${m['pinning']}.`,
    '',
    result.table,
    '',
    result.headline === null
      ? ''
      : `**tsgun / bare Node throughput: ${result.headline.toFixed(3)}** (same run, same machine).`,
    routerLine(result),
  ].join('\n');
  const readme = readFileSync(file, 'utf8');
  writeFileSync(
    file,
    readme.replace(
      /(<!-- bench:start -->)[\s\S]*?(<!-- bench:end -->)/,
      (_, a: string, b: string) => `${a}\n${block}\n${b}`,
    ),
  );
}

async function compare(
  ids: string[],
  pairs: number,
  opts: Options,
  expectedSha: string,
): Promise<void> {
  const rows = ids.map((id) => {
    const row = ROWS.find((r) => r.id === id);
    if (!row) throw new Error(`no row ${id}`);
    return row;
  });
  const servers: Started[] = [];
  try {
    for (const row of rows) {
      const server = await startRow(row, expectedSha);
      if ('skipped' in server) throw new Error(`${row.id}: ${server.skipped}`);
      servers.push(server);
    }
    for (const [i, s] of servers.entries()) runWrk(s.url, 1, opts.connections, rows[i]!.keepAlive);
    const a: number[] = [];
    const b: number[] = [];
    const cpuA: number[] = [];
    const cpuB: number[] = [];
    // Throughput on a shared VM drifts by tens of percent; CPU time per request of the server's
    // processes (all of its process group) is far steadier, so both are reported.
    const run = (i: 0 | 1, rates: number[], cpu: number[]) => {
      const pgid = servers[i]!.child.pid!;
      const before = groupCpuTicks(pgid);
      const r = runWrk(servers[i]!.url, opts.duration, opts.connections, rows[i]!.keepAlive);
      rates.push(r.requestsPerSec);
      cpu.push(((groupCpuTicks(pgid) - before) * 1e6) / CLOCK_TICKS / Math.max(1, r.requests));
    };
    // A B, then B A: whichever runs second in a pair meets the same drift as often as the other.
    for (let i = 0; i < pairs; i++) {
      if (i % 2 === 0) {
        run(0, a, cpuA);
        run(1, b, cpuB);
      } else {
        run(1, b, cpuB);
        run(0, a, cpuA);
      }
    }
    const ratios = summarize(a.map((x, i) => b[i]! / x));
    const cpuRatios = summarize(cpuA.map((x, i) => cpuB[i]! / x));
    const text = `${ids[1]} / ${ids[0]}, ${pairs} alternating pairs of ${opts.duration} s runs: throughput ratio ${ratios.median.toFixed(3)} (median; min ${ratios.min.toFixed(3)}, max ${ratios.max.toFixed(3)}), CPU time per request ratio ${cpuRatios.median.toFixed(3)} (median; min ${cpuRatios.min.toFixed(3)}, max ${cpuRatios.max.toFixed(3)}; ${summarize(cpuA).median.toFixed(1)} vs ${summarize(cpuB).median.toFixed(1)} µs per request)`;
    process.stdout.write(`${text}\n`);
    const dir = join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `compare-${ids.join('-')}.json`),
      `${JSON.stringify({ date: new Date().toISOString(), ids, pairs, a, b, cpuA, cpuB, ratios, cpuRatios, text }, null, 2)}\n`,
    );
    if (process.argv.includes('--readme')) {
      const file = join(ROOT, 'README.md');
      const block = new RegExp(
        `(<!-- compare:${ids.join('-')}:start -->)[\\s\\S]*?(<!-- compare:${ids.join('-')}:end -->)`,
      );
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          block,
          (_, x: string, y: string) => `${x}\n${text}.\n${y}`,
        ),
      );
    }
  } finally {
    for (const server of servers) stopRow(server.child);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  if (process.argv.includes('--render-readme')) {
    const latest = JSON.parse(
      readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'),
    ) as Result;
    writeCharts(latest.rows);
    writeReadme(latest);
    return;
  }
  if (!has('wrk')) {
    process.stderr.write('bench: wrk is not installed (apt-get install wrk, or bench/setup.sh)\n');
    process.exit(2);
  }
  const app = (await import(pathToFileURL(join(ROOT, 'examples/event-queue/app.js')).href)) as {
    BENCH_EVENTS: unknown[];
  };
  const expected = JSON.stringify(app.BENCH_EVENTS.map((data, i) => ({ id: i + 1, data })));
  const expectedSha = createHash('sha256').update(expected).digest('hex');
  const compareIds = process.argv.includes('--compare')
    ? process.argv[process.argv.indexOf('--compare') + 1]?.split(',')
    : undefined;
  if (compareIds) {
    const pairsArg = process.argv.indexOf('--pairs');
    await compare(
      compareIds,
      pairsArg >= 0 ? Number(process.argv[pairsArg + 1]) : 10,
      opts,
      expectedSha,
    );
    return;
  }
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    kernel: release(),
    pinning: pinning
      ? 'servers on CPU 0, load generators on CPU 1 (taskset)'
      : 'none (taskset missing or 1 CPU)',
  };
  process.stderr.write(
    `bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; ${machine.pinning}\n`,
  );
  const rows: RowResult[] = [];
  for (const row of ROWS) {
    if (opts.only && !opts.only.includes(row.id)) continue;
    process.stderr.write(`bench: ${row.id}...\n`);
    rows.push(await measure(row, opts, expectedSha));
  }
  const out = table(rows, opts);
  process.stdout.write(`${out}\n`);
  const tsgun = rows.find((r) => r.id === 'tsgun')?.throughput?.median;
  const node = rows.find((r) => r.id === 'node')?.throughput?.median;
  const headline = tsgun && node ? tsgun / node : null;
  if (headline !== null)
    process.stdout.write(`\ntsgun / bare Node throughput: ${headline.toFixed(3)}\n`);
  const withStats = rows.find((r) => r.id === 'tsgun-stats')?.throughput?.median;
  const statsCost = tsgun && withStats ? 1 - withStats / tsgun : null;
  if (statsCost !== null)
    process.stdout.write(`cost of --stats: ${(statsCost * 100).toFixed(1)}% of throughput\n`);
  const median = (id: string) => rows.find((r) => r.id === id)?.throughput?.median;
  const ratio = (a: string, b: string) => {
    const x = median(a);
    const y = median(b);
    return x && y ? x / y : null;
  };
  const router = {
    keepAliveVsDirect: ratio('tsgun-router-ka', 'tsgun-ka'),
    closeVsDirect: ratio('tsgun-router', 'tsgun'),
    closeVsUwsgiRouter: ratio('tsgun-router', 'uwsgi-http'),
  };
  for (const [k, v] of Object.entries(router))
    if (v !== null) process.stdout.write(`router ${k}: ${v.toFixed(3)}\n`);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const result = {
    router,
    date: new Date().toISOString(),
    machine,
    options: opts,
    bodyBytes: Buffer.byteLength(expected),
    headline,
    statsCost,
    rows,
    table: out,
  };
  const name = opts.quick ? 'quick.json' : 'latest.json';
  writeFileSync(join(dir, name), `${JSON.stringify(result, null, 2)}\n`);
  if (process.argv.includes('--readme') && !opts.quick) writeReadme(result);
  if (!opts.quick) writeCharts(rows);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
