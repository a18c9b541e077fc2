/**
 * The router's summary line, from the A/B results `npm run bench:router` wrote (bench/results/
 * compare-*.json): where tsgun --router stands against the minimal undici proxy, direct mode and
 * uWSGI's router. With --docs (or --readme) it goes into docs/benchmarks.md's router-summary block.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wantsDocs, writeBlock } from '../test/helpers/doc-blocks.js';
import { ROOT } from './rows.js';

interface Compare {
  readonly date: string;
  readonly ratios: { readonly median: number };
}

/** One A/B result: B/A, B being tsgun's router (or two of them). */
function read(a: string, b: string): Compare | null {
  const file = join(ROOT, `bench/results/compare-${a}-${b}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Compare) : null;
}

const dates = new Set<string>();
const ratio = (a: string, b: string): string | null => {
  const c = read(a, b);
  if (!c) return null;
  dates.add(c.date.slice(0, 10));
  return `${c.ratios.median.toFixed(2)}x`;
};
/** "0.90x X (1.20x with keep-alive clients)", or what of it was measured. */
const against = (name: string, plain: string | null, keepAlive: string | null): string | null => {
  if (plain === null && keepAlive === null) return null;
  if (plain === null) return `${keepAlive} ${name} with keep-alive clients`;
  return `${plain} ${name}${keepAlive === null ? '' : ` (${keepAlive} with keep-alive clients)`}`;
};

const router = [
  against(
    'the minimal undici proxy',
    ratio('undici', 'tsgun-router'),
    ratio('undici-ka', 'tsgun-router-ka'),
  ),
  against('direct mode', ratio('tsgun', 'tsgun-router'), ratio('tsgun-ka', 'tsgun-router-ka')),
  against("uWSGI's `--http` router", ratio('uwsgi-http', 'tsgun-router'), null),
].filter((s) => s !== null);
const two = ratio('tsgun-router-ka', 'tsgun-router2-ka');
const line =
  `**Router mode** (median throughput ratios of the A/B runs above, ${[...dates].sort().join(' to ')}): ` +
  `\`--router\` serves ${router.join(', ')}` +
  (two === null
    ? '.'
    : `; \`--router-processes 2\` ${two} one router process (keep-alive clients, one CPU).`);
process.stdout.write(`${line}\n`);
if (wantsDocs()) writeBlock('router-summary', line);
