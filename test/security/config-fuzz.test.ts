import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REGISTRY } from '../../src/config/registry.js';
import { fixture, killAll, runTsgun } from '../helpers/tsgun.js';

after(killAll);

/** mulberry32: the same sample on every run, so a failure is reproducible by its seed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE: readonly string[] = [
  '',
  ' ',
  '-1',
  '0',
  '1e309',
  '99999999999999999999',
  'NaN',
  '0x1F',
  '1.5',
  'true',
  'null',
  '{}',
  '[]',
  '%s%s%n',
  '../../../../etc/passwd',
  '/dev/null',
  'unix:',
  'unix:/nonexistent/dir/x.sock',
  'fd://99999',
  ':::::',
  '[::1',
  '0.0.0.0:99999',
  'x'.repeat(5000),
  'é\u202e\uffff',
  '$(id)',
  '; rm -rf /',
  '\\',
  '*',
  'http://',
  '--',
  '-w',
  '\t\n',
];
/** A config file can also give values that are not strings. */
const HOSTILE_JSON: readonly unknown[] = [null, -1, 1e308, true, {}, [], [[]], { a: 1 }, [1, 'x']];

const SEED = 16;
const ROUNDS = 1;
const EXIT_CODES = [0, 2, 3, 4];

interface Run {
  readonly label: string;
  readonly args: string[];
  readonly env: Record<string, string>;
}

function sample(): Run[] {
  const next = random(SEED);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-fuzz-'));
  const runs: Run[] = [];
  let file = 0;
  for (const [name, def] of Object.entries(REGISTRY)) {
    for (let round = 0; round < ROUNDS; round++) {
      const surfaces = [
        ...(def.flags.length > 0 && !def.fileOnly ? ['cli'] : []),
        ...(def.env ? ['env'] : []),
        ...(def.cliOnly ? [] : ['file']),
      ];
      const surface = pick(surfaces);
      const value = surface === 'file' && next() < 0.3 ? pick(HOSTILE_JSON) : pick(HOSTILE);
      const label = `${name} via ${surface} = ${JSON.stringify(value)?.slice(0, 40)}`;
      if (surface === 'cli') {
        const flag = def.flags[def.flags.length - 1]!;
        runs.push({ label, args: def.arg ? [flag, String(value)] : [`${flag}=${value}`], env: {} });
      } else if (surface === 'env') {
        runs.push({ label, args: [], env: { [def.env!]: String(value) } });
      } else {
        const path = join(dir, `c${file++}.json`);
        writeFileSync(path, JSON.stringify({ [name]: value }));
        runs.push({ label, args: ['-c', path], env: {} });
      }
    }
  }
  return runs;
}

/** One run of the real bin/tsgun, in its own process group (killed after 15 s): null when fine. */
async function check(run: Run): Promise<string | null> {
  const { code, stderr } = await runTsgun(
    [fixture('app.mjs'), '-b', '127.0.0.1:0', '--check-config', ...run.args],
    { env: run.env, timeoutMs: 15_000 },
  );
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  if (code === null) return `${run.label}: killed after 15 s (hung?)`;
  if (!EXIT_CODES.includes(code))
    return `${run.label}: exit ${code}: ${lines.join(' | ').slice(0, 300)}`;
  if (/^\s+at /m.test(stderr)) return `${run.label}: a stack trace: ${stderr.slice(0, 400)}`;
  if (code !== 0 && lines.some((l) => !l.startsWith('tsgun')))
    return `${run.label}: not one tsgun line per problem: ${lines.join(' | ').slice(0, 300)}`;
  return null;
}

describe('config fuzz (fixed seed)', () => {
  it(`random hostile values for every setting, through CLI, env and config file (seed ${SEED}): one line each, a documented exit code, no stack trace`, async () => {
    const runs = sample();
    const failures: string[] = [];
    for (let i = 0; i < runs.length; i += 4) {
      const batch = await Promise.all(runs.slice(i, i + 4).map(check));
      for (const f of batch) if (f) failures.push(f);
    }
    assert.deepEqual(
      failures,
      [],
      `${failures.length} of ${runs.length} runs:\n${failures.join('\n')}`,
    );
  });
});
