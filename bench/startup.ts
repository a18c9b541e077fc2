/**
 * `npm run bench -- --startup [--samples N]`: how fast tsgun starts and how small its master is,
 * as ratios to plain Node on the same machine in the same run. Start to the first 200 of
 * `tsgun app.js -w 1` against `node server.js` serving the same app, which goes first rotated
 * sample by sample, neither pinned to a CPU;
 * and the master's RSS (once settled) against an idle `node -e "setInterval(()=>{},1e3)"`.
 * Each app also runs under bench/servers/fork-first.cjs, a Node parent that only forks the
 * server file: the least any supervisor written in Node adds (its ratio and its RSS are printed
 * beside tsgun's, as the floor those bars stand on).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBlock, wantsDocs, writeBlock } from '../test/helpers/doc-blocks.js';
import { rssMiB, startRow, stopRow } from './measure.js';
import { summarize } from './parse.js';
import { pin, ROOT, ROWS, type RowDef, tsgunAppArgv } from './rows.js';

/** After the first 200 (or the spawn, for the idle process): what start-up left behind settles. */
const SETTLE_MS = 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function idleNodeRss(): Promise<number> {
  const argv = pin(0, [process.execPath, '-e', 'setInterval(()=>{},1e3)']);
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: 'ignore' });
  try {
    await sleep(SETTLE_MS);
    return rssMiB(child.pid!) ?? Number.NaN;
  } finally {
    stopRow(child);
  }
}

/** The same Express app (CommonJS, it listens itself) under tsgun and under plain node. */
const EXPRESS_APP = join(ROOT, 'bench/servers/express.cjs');
const EXPRESS_SHA = createHash('sha256').update('{"hello":"world"}').digest('hex');
const FORK_FIRST = join(ROOT, 'bench/servers/fork-first.cjs');
/** `file` (which listens on $PORT itself) forked by a parent that does nothing else. */
const forkFirstRow = (id: string, file: string): RowDef => ({
  id,
  label: `a Node parent that only forks ${file}`,
  command: (p) => ({ argv: [process.execPath, FORK_FIRST, file], env: { PORT: String(p) } }),
});
const forkNodeRow = forkFirstRow('fork-node', join(ROOT, 'bench/servers/bare.mjs'));
const expressRows: readonly RowDef[] = [
  {
    id: 'tsgun-express',
    label: 'tsgun, Express',
    command: (p) => ({ argv: tsgunAppArgv(EXPRESS_APP, p) }),
  },
  {
    id: 'node-express',
    label: 'node, Express',
    command: (p) => ({ argv: [process.execPath, EXPRESS_APP], env: { PORT: String(p) } }),
  },
  forkFirstRow('fork-express', EXPRESS_APP),
];

export async function startup(samples: number, expectedSha: string): Promise<string> {
  const tsgunRow = ROWS.find((r) => r.id === 'tsgun')!;
  const nodeRow = ROWS.find((r) => r.id === 'node')!;
  const pairs = [
    { rows: [tsgunRow, nodeRow, forkNodeRow], sha: expectedSha },
    { rows: expressRows, sha: EXPRESS_SHA },
  ];
  const first: Record<string, number[]> = {};
  const rss = { master: [] as number[], forkFirst: [] as number[], idle: [] as number[] };
  for (let i = 0; i < samples; i++) {
    for (const pair of pairs) {
      // Rotate which goes first, so page-cache warmth and drift fall on all alike.
      const k = i % pair.rows.length;
      const order = [...pair.rows.slice(k), ...pair.rows.slice(0, k)];
      for (const row of order) {
        // Unpinned: start-up as on the machine, where tsgun's master and its first worker's Node
        // start at once (src/master/children/spare.ts); on one CPU they would take turns.
        const s = await startRow(row, pair.sha, 2, false);
        if ('skipped' in s) throw new Error(`${row.id}: ${s.skipped}`);
        try {
          const times = first[row.id] ?? [];
          first[row.id] = times;
          times.push(s.firstResponseMs);
          // The parent's RSS: tsgun's master, the fork-first parent (the ES app's, once a sample).
          const kept = row === tsgunRow ? rss.master : row === forkNodeRow ? rss.forkFirst : null;
          if (kept) {
            await sleep(SETTLE_MS);
            kept.push(rssMiB(s.child.pid!) ?? Number.NaN);
          }
        } finally {
          stopRow(s.child);
        }
      }
    }
    rss.idle.push(await idleNodeRss());
  }
  const m = (v: number[] | undefined) => summarize(v ?? []).median;
  const startRatio = m(first['tsgun']) / m(first['node']);
  const expressRatio = m(first['tsgun-express']) / m(first['node-express']);
  const rssRatio = m(rss.master) / m(rss.idle);
  const floor = {
    start: m(first['fork-node']) / m(first['node']),
    express: m(first['fork-express']) / m(first['node-express']),
    rss: m(rss.forkFirst) / m(rss.idle),
  };
  const text = `Start to first 200, ${samples} rotated samples: the event-queue app (ES module) tsgun -w 1 ${m(first['tsgun']).toFixed(0)} ms, bare node ${m(first['node']).toFixed(0)} ms, **ratio ${startRatio.toFixed(2)}x** (fork-first parent ${floor.start.toFixed(2)}x); an Express app (CommonJS, app.listen) ${m(first['tsgun-express']).toFixed(0)} vs ${m(first['node-express']).toFixed(0)} ms, **ratio ${expressRatio.toFixed(2)}x** (fork-first ${floor.express.toFixed(2)}x); master RSS ${m(rss.master).toFixed(1)} MiB vs idle node ${m(rss.idle).toFixed(1)} MiB, **ratio ${rssRatio.toFixed(2)}x** (fork-first parent ${m(rss.forkFirst).toFixed(1)} MiB, ${floor.rss.toFixed(2)}x) (Node ${process.version})`;
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'startup.json'),
    `${JSON.stringify({ date: new Date().toISOString(), samples, first, rss, startRatio, expressRatio, rssRatio, floor, text }, null, 2)}\n`,
  );
  if (wantsDocs()) {
    writeBlock('startup', withNodeLine(readBlock('startup'), `- ${text}.`).trimEnd());
  }
  return text;
}

/** The docs keep one line per Node major version (run the bench under each): this one's. */
function withNodeLine(lines: string, line: string): string {
  const major = (l: string) => /\(Node v(\d+)\./.exec(l)?.[1] ?? '';
  const kept = lines.split('\n').filter((l) => l !== '' && major(l) !== major(line));
  return `${[...kept, line].sort((a, b) => Number(major(a)) - Number(major(b))).join('\n')}\n`;
}
