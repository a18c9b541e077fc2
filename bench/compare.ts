/**
 * `npm run bench -- --compare a,b`: the A/B of two rows as the median of pairwise ratios b/a, each
 * pair on freshly started servers. Two ways to run a pair:
 *
 * - alternating (default): wrk runs a then b (b then a for the next pair), each server with CPU 0
 *   to itself. What a user sees, but on a shared VM the throughput of one server moves by tens of
 *   percent from one run to the next, so a median of 24 pairs still moves by a few percent.
 * - `--together`: both servers on CPU 0 at once, one wrk each on CPU 1, started together. Each
 *   server gets half the CPU (the servers run in sessions of their own, which Linux schedules
 *   fairly), so the ratio of requests served is the ratio of the CPU each spends per request,
 *   measured in the same seconds: the VM's drift hits both alike. Which server starts first and
 *   gets which wrk swaps from pair to pair (the first is worth about 2% here). wrk must not be the
 *   limit: with keep-alive, two wrk use about half of CPU 1 on this VM.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wantsDocs, writeBlock } from '../test/helpers/doc-blocks.js';
import {
  CLOCK_TICKS,
  type CompanionCounts,
  groupCpuTicks,
  type Options,
  runH2load,
  runWrk,
  runWrkAsync,
  type Started,
  startRow,
  stopCompanion,
  stopRow,
} from './measure.js';
import { summarize } from './parse.js';
import { ROOT, ROWS } from './rows.js';

interface Sample {
  readonly rate: number;
  /** CPU time of the server's process group per request, µs. */
  readonly cpuUs: number;
}

/** Run wrk against each server in `order` (indices), all at once or one after the other. */
async function runPair(
  servers: Started[],
  /** Per server: keep-alive wrk, or h2load for an HTTP/2 row. */
  keepAlive: (boolean | 'h2')[],
  order: number[],
  together: boolean,
  opts: Options,
): Promise<Sample[]> {
  const samples: Sample[] = [];
  const one = async (i: number) => {
    const pgid = servers[i]!.child.pid!;
    const before = groupCpuTicks(pgid);
    const load = keepAlive[i] ?? false;
    const r = together
      ? await runWrkAsync(servers[i]!.url, opts.duration, opts.connections, load)
      : load === 'h2'
        ? runH2load(servers[i]!.url, opts.duration, opts.connections)
        : runWrk(servers[i]!.url, opts.duration, opts.connections, load);
    const cpuUs = ((groupCpuTicks(pgid) - before) * 1e6) / CLOCK_TICKS / Math.max(1, r.requests);
    samples[i] = { rate: r.requestsPerSec, cpuUs };
  };
  if (together) await Promise.all(order.map(one));
  else for (const i of order) await one(i);
  return samples;
}

/**
 * A companion (the dashboard client) that made no requests would measure nothing: the pair is
 * void. It must have loaded its page, held a stream that delivered events, and polled about once
 * a second through the warm-up and the run, without errors.
 */
export function companionProblem(c: CompanionCounts | null, seconds: number): string | null {
  if (!c) return 'printed no counts';
  if (!(c['page']! >= 1)) return 'never loaded the page';
  if (!(c['events']! >= 1)) return 'received no events';
  if (c['pollErrors']! > 0) return `${c['pollErrors']} polls failed`;
  if (!(c['polls']! >= Math.floor(seconds / 2))) return `only ${c['polls']} polls in ${seconds} s`;
  return null;
}

export async function compare(
  ids: string[],
  pairs: number,
  opts: Options,
  expectedSha: string,
  together: boolean,
  /** The result file's name; by default compare-[together-]A-B.json. */
  out?: string,
): Promise<void> {
  const rows = ids.map((id) => {
    const row = ROWS.find((r) => r.id === id);
    if (!row) throw new Error(`no row ${id}`);
    return row;
  });
  const keepAlive = rows.map((r) => (r.h2 === true ? ('h2' as const) : r.keepAlive === true));
  const a: Sample[] = [];
  const b: Sample[] = [];
  const companions: (CompanionCounts | null)[][] = [[], []];
  // Every pair runs on freshly started servers: a Node process keeps the speed its start gave it
  // (JIT decisions, heap layout), a few percent either way for its whole life (bare Node against
  // itself: 0.95 to 1.02 from one start to the next), which runs on the same two processes never
  // average out. A B, then B A: whichever runs (or starts) first is first as often as the other.
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    const servers: Started[] = [];
    try {
      for (const k of order) {
        const server = await startRow(rows[k]!, expectedSha);
        if ('skipped' in server) throw new Error(`${rows[k]!.id}: ${server.skipped}`);
        servers[k] = server;
      }
      const warm = { ...opts, duration: 1 };
      await runPair(servers, keepAlive, order, together, warm);
      const samples = await runPair(servers, keepAlive, order, together, opts);
      a.push(samples[0]!);
      b.push(samples[1]!);
      for (const k of [0, 1]) {
        if (!servers[k]!.companion) continue;
        const counts = await stopCompanion(servers[k]!);
        const problem = companionProblem(counts, warm.duration + opts.duration);
        if (problem) throw new Error(`${rows[k]!.id}: the companion client ${problem}`);
        companions[k]!.push(counts);
      }
    } finally {
      for (const s of servers) if (s) stopRow(s.child);
    }
  }
  const ratios = summarize(a.map((x, i) => b[i]!.rate / x.rate));
  const cpuRatios = summarize(a.map((x, i) => b[i]!.cpuUs / x.cpuUs));
  const how = together
    ? `${pairs} pairs of ${opts.duration} s runs at once on one CPU`
    : `${pairs} alternating pairs of ${opts.duration} s runs`;
  const cpuA = summarize(a.map((x) => x.cpuUs)).median;
  const cpuB = summarize(b.map((x) => x.cpuUs)).median;
  const clientText = companions
    .map((list, k) =>
      list.length === 0
        ? ''
        : `; ${ids[k]}'s client per pair: ${list.map((c) => `${c!['polls']} polls, ${c!['events']} events`).join(' / ')}`,
    )
    .join('');
  const text = `${ids[1]} / ${ids[0]}, ${how}, fresh servers for each pair: throughput ratio ${ratios.median.toFixed(3)} (median; min ${ratios.min.toFixed(3)}, max ${ratios.max.toFixed(3)}), CPU time per request ratio ${cpuRatios.median.toFixed(3)} (median; min ${cpuRatios.min.toFixed(3)}, max ${cpuRatios.max.toFixed(3)}; ${cpuA.toFixed(1)} vs ${cpuB.toFixed(1)} µs per request)${clientText}`;
  process.stdout.write(`${text}\n`);
  const key = `${together ? 'together-' : ''}${ids.join('-')}`;
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, out ?? `compare-${key}.json`),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        ids,
        pairs,
        together,
        a: a.map((x) => x.rate),
        b: b.map((x) => x.rate),
        cpuA: a.map((x) => x.cpuUs),
        cpuB: b.map((x) => x.cpuUs),
        ratios,
        cpuRatios,
        ...(companions.some((l) => l.length > 0) ? { companions } : {}),
        text,
      },
      null,
      2,
    )}\n`,
  );
  if (wantsDocs()) writeBlock(`compare:${key}`, `${text}.`);
}
