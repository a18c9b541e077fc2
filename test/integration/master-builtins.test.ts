import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture, killAll, ROOT, Tsgun, waitForFile } from '../helpers/tsgun.js';

after(killAll);

/** The ES module loader's own modules an idle `node -e` loads by itself (it differs by version). */
function esmLoaderOfIdleNode(): Set<string> {
  const out = execFileSync(process.execPath, [
    '-e',
    'process.stdout.write(JSON.stringify(process.moduleLoadList))',
  ]);
  return new Set(
    (JSON.parse(out.toString()) as string[])
      .filter((m) => m.startsWith('NativeModule internal/modules/esm/'))
      .map((m) => m.slice('NativeModule '.length)),
  );
}

/**
 * The master is the process that runs longest, and the goal is an RSS near an idle `node`: it
 * is CommonJS (no ES module loader beyond what Node starts with, no ES facades of built-ins,
 * whose lazy getters load more), its start time does not come from perf_hooks, and pino's
 * destination does not load node:assert (scripts/bundle.mjs). Each of these was there before.
 */
describe("the master's built-in modules", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-builtins-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads no ES module, perf_hooks, assert, fs/promises, BlockList, worker_threads or undici', async () => {
    const t = new Tsgun([fixture('listener.cjs'), '-b', '127.0.0.1:0', '-w', '1'], {
      env: {
        NODE_OPTIONS: `--require ${fixture('report-builtins.cjs')}`,
        TSGUN_TEST_BUILTINS: dir,
      },
    });
    await t.waitForReady(1);
    const readyAt = Date.now();
    const parse = (text: string): { at: number; loaded: string[] } | null => {
      try {
        return JSON.parse(text);
      } catch {
        return null; // written as we read
      }
    };
    const text = await waitForFile(join(dir, 'master.json'), (t) => (parse(t)?.at ?? 0) > readyAt);
    const loaded = new Set(parse(text)!.loaded);
    assert.ok(loaded.has('cluster'), 'the report lists built-ins');
    // Node 24 starts its ES loader in every process: there the facades' modules (fs/promises,
    // BlockList, below) are what an ES-module master adds.
    const idle = esmLoaderOfIdleNode();
    const esm = [...loaded].filter((m) => m.startsWith('internal/modules/esm/') && !idle.has(m));
    assert.deepEqual(esm, [], 'ES module loader parts an idle node does not load');
    for (const name of [
      'perf_hooks',
      'assert',
      'internal/fs/promises',
      'internal/blocklist',
      'worker_threads',
      'internal/deps/undici/undici',
    ])
      assert.ok(!loaded.has(name), `the master loaded ${name}`);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('its bundles run in strict mode, as the modules of dist/src do', () => {
    // A directive is one only before any statement: a banner above it would leave it a string.
    for (const file of ['tsgun.cjs', 'tsgun-early.cjs'])
      assert.match(readFileSync(`${ROOT}dist/bundle/${file}`, 'utf8'), /^'use strict';\n/, file);
    // And as run: a sloppy-mode function has its own `caller`, a strict one has none.
    const early = createRequire(import.meta.url)(`${ROOT}dist/bundle/tsgun-early.cjs`) as {
      startSpare: () => void;
    };
    assert.equal(Object.hasOwn(early.startSpare, 'caller'), false);
  });
});
