/**
 * `npm run bench`: reproduces the 2012 uWSGI-vs-Gunicorn-vs-Node benchmark on this machine (see
 * docs/benchmarks.md): one worker, no keep-alive (every request a new TCP
 * connection), GET of a channel primed with ~1 KB of JSON, load from wrk and httperf. Every row serves byte-identical
 * bodies (checked). Prints one table, writes bench/results/latest.json and SVG charts.
 *
 *   --quick          seconds, for CI smoke (1 short run per row)
 *   --only a,b       only these rows (ids: tsgun, tsgun-listen,
 *                    tsgun-stats, tsgun-stats-dashboard, tsgun-haproxy, tsgun-haproxy-pp,
 *                    tsgun-router, tsgun-router2,
 *                    tsgun-ka, tsgun-router-ka, tsgun-router2-ka, proxy3-ka, proxy3, undici,
 *                    undici-ka, node, cluster, pm2, gunicorn, uwsgi-http, uwsgi-socket;
 *                    HTTP/2 over h2load: tsgun-router-h2, node-h2, h2proxy)
 *   --runs N --duration S --connections C
 *   --docs           after the run, put the table into docs/benchmarks.md (its bench block;
 *                    --readme is the old name, still accepted)
 *   --compare a,b [--pairs N] [--together] [--out NAME.json]  A/B: for each pair both servers are started afresh
 *                    and wrk runs a b, then b a for the next (with --together: both at once on one
 *                    CPU); the median of the pairwise ratios b/a (compare.ts), written to
 *                    bench/results/NAME.json (default compare-[together-]a-b.json)
 *   --startup [--samples N]  start to first 200 and master RSS, as ratios to plain node
 *   --render-docs    only put bench/results/latest.json's table into docs/benchmarks.md
 *                    (--render-readme is the old name)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { wantsDocs, writeBlock } from '../test/helpers/doc-blocks.js';
import { barChart } from './chart.js';
import { compare } from './compare.js';
import { measure, type Options, type RowResult } from './measure.js';
import { has, pinning, ROOT, ROWS } from './rows.js';
import { startup } from './startup.js';

/** The word after `--name` on the command line, if any. */
function optionValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string) => optionValue(argv, name);
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

/** The bench block of docs/benchmarks.md: machine, table and headline, all from one result file. */
function writeDocs(result: Result): void {
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
  writeBlock('bench', block);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const value = (name: string) => optionValue(process.argv, name);
  if (process.argv.includes('--render-docs') || process.argv.includes('--render-readme')) {
    const latest = JSON.parse(
      readFileSync(join(ROOT, 'bench/results/latest.json'), 'utf8'),
    ) as Result;
    writeCharts(latest.rows);
    writeDocs(latest);
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
  if (process.argv.includes('--startup')) {
    const samples = process.argv.indexOf('--samples');
    const n = samples >= 0 ? Number(process.argv[samples + 1]) : 10;
    process.stdout.write(`${await startup(n, expectedSha)}\n`);
    return;
  }
  if (compareIds) {
    const pairsArg = process.argv.indexOf('--pairs');
    await compare(
      compareIds,
      pairsArg >= 0 ? Number(process.argv[pairsArg + 1]) : 10,
      opts,
      expectedSha,
      process.argv.includes('--together'),
      value('--out'),
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
    if (opts.only ? !opts.only.includes(row.id) : row.onDemand) continue;
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
  if (wantsDocs() && !opts.quick) writeDocs(result);
  if (!opts.quick) writeCharts(rows);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
