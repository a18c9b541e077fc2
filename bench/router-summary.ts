/**
 * The router's summary line, from the A/B results `npm run bench:router` wrote (bench/results/
 * compare-*.json): where tsgun --router stands against the minimal undici proxy, direct mode and
 * uWSGI's router. With --readme it goes into README.md between the router-summary markers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './rows.js';

interface Compare {
  readonly date: string;
  readonly ratios: { readonly median: number };
}

/** [A, B, what B/A is called]: the ratio is tsgun's router (B) over the reference (A). */
const PAIRS: readonly (readonly [string, string, string])[] = [
  ['undici', 'tsgun-router', 'the minimal undici proxy'],
  ['undici-ka', 'tsgun-router-ka', 'the minimal undici proxy with keep-alive clients'],
  ['tsgun', 'tsgun-router', 'direct mode'],
  ['tsgun-ka', 'tsgun-router-ka', 'direct mode with keep-alive clients'],
  ['uwsgi-http', 'tsgun-router', "uWSGI's `--http` router"],
  ['tsgun-router-ka', 'tsgun-router2-ka', 'one router process (keep-alive clients)'],
];

function read(a: string, b: string): Compare | null {
  const file = join(ROOT, `bench/results/compare-${a}-${b}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Compare) : null;
}

const parts: string[] = [];
const dates: string[] = [];
for (const [a, b, name] of PAIRS) {
  const c = read(a, b);
  if (!c) continue;
  dates.push(c.date.slice(0, 10));
  const who = b === 'tsgun-router2-ka' ? '`--router-processes 2`' : '`--router`';
  parts.push(`${who} ${c.ratios.median.toFixed(2)}x ${name}`);
}
const span = [...new Set(dates)].sort().join(' to ');
const line = `**Router mode** (median throughput ratios of the A/B runs above, ${span}): ${parts.join('; ')}.`;
process.stdout.write(`${line}\n`);
if (process.argv.includes('--readme')) {
  const file = join(ROOT, 'README.md');
  const block = /(<!-- router-summary:start -->)[\s\S]*?(<!-- router-summary:end -->)/;
  writeFileSync(
    file,
    readFileSync(file, 'utf8').replace(block, (_, x: string, y: string) => `${x}\n${line}\n${y}`),
  );
}
