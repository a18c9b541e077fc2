/**
 * `node dist/bench/platform-checks.js [--samples N]`: what the start-up checks of Node's private
 * behaviour (src/platform/checks.ts) cost, against the start of `tsgun bare.mjs -w 1` to its
 * first 200 measured in the same run, sample by sample. The check runs in a fresh Node process
 * each time, as the master runs it once before it forks. With
 * `--baseline DIR` (a built checkout without the checks), the start of DIR's tsgun is measured
 * too, alternating sample by sample: the ratio of the two starts is the checks' real cost. Writes bench/results/platform-checks.json.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startRow, stopRow } from './measure.js';
import { fromCheckout, ROOT, ROWS, type RowDef } from './rows.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const CHECKS = pathToFileURL(join(ROOT, 'dist/src/platform/checks.js')).href;
// node:http is loaded first: every worker has loaded it before its check runs.
const TIMED = `require('node:http'); import(${JSON.stringify(CHECKS)}).then(async (m) => {
  const t = performance.now();
  await m.checkServingPlatform({ warn() {} });
  process.stdout.write(String(performance.now() - t));
});`;

async function main(): Promise<void> {
  const at = process.argv.indexOf('--samples');
  const samples = at > 0 ? Number(process.argv[at + 1]) : 15;
  const row = ROWS.find((r) => r.id === 'tsgun')!;
  const app = (await import(pathToFileURL(join(ROOT, 'examples/event-queue/app.js')).href)) as {
    BENCH_EVENTS: unknown[];
  };
  const body = JSON.stringify(app.BENCH_EVENTS.map((data, i) => ({ id: i + 1, data })));
  const sha = createHash('sha256').update(body).digest('hex');
  const starts: number[] = [];
  const checks: number[] = [];
  const baseDir = process.argv.includes('--baseline')
    ? process.argv[process.argv.indexOf('--baseline') + 1]
    : undefined;
  const baseRow: RowDef | null = baseDir
    ? {
        id: 'tsgun-baseline',
        label: `tsgun of ${baseDir}`,
        command: fromCheckout(baseDir, row.command),
      }
    : null;
  const baseStarts: number[] = [];
  for (let i = 0; i < samples; i++) {
    checks.push(Number(execFileSync(process.execPath, ['-e', TIMED], { encoding: 'utf8' })));
    const started = await startRow(row, sha, 2, false);
    if ('skipped' in started) throw new Error(started.skipped);
    starts.push(started.firstResponseMs);
    stopRow(started.child);
    if (baseRow) {
      const base = await startRow(baseRow, sha, 2, false);
      if ('skipped' in base) throw new Error(base.skipped);
      baseStarts.push(base.firstResponseMs);
      stopRow(base.child);
    }
  }
  const result = {
    node: process.version,
    samples,
    checkMs: median(checks),
    startMs: median(starts),
    ratio: median(checks) / median(starts),
    ...(baseDir
      ? {
          baseline: baseDir,
          baselineStartMs: median(baseStarts),
          startRatio: median(starts) / median(baseStarts),
        }
      : {}),
  };
  writeFileSync(
    join(ROOT, 'bench/results/platform-checks.json'),
    `${JSON.stringify(result, null, 2)}\n`,
  );
  process.stdout.write(
    `platform checks: ${result.checkMs.toFixed(1)} ms (median of ${samples}, in a fresh process each), ` +
      `tsgun -w 1 to its first 200: ${result.startMs.toFixed(1)} ms: ${(result.ratio * 100).toFixed(1)}% at most\n` +
      (baseDir
        ? `start with the checks / without (${baseDir}): ${(median(starts) / median(baseStarts)).toFixed(3)}\n`
        : ''),
  );
}

await main();
