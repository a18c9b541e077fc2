import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BIN, fixture, isAlive, killAll, pollUntil, Tsgun } from '../helpers/tsgun.js';

/**
 * `npm start` runs its script through `sh -c`, which passes no signal on: a TERM to npm used to
 * leave the master orphaned and serving. Real npm, real sh.
 */

const dir = mkdtempSync(join(tmpdir(), 'tsgun-npm-'));
/** npm's process group: an orphaned master stays in it after npm has gone. */
let group = 0;
after(() => {
  killAll();
  try {
    if (group) process.kill(-group, 'SIGKILL');
  } catch {
    // Nothing of it is left.
  }
  rmSync(dir, { recursive: true, force: true });
});

const npm = spawnSync('sh', ['-c', 'command -v npm']).stdout?.toString().trim() ?? '';

describe('under npm start', { skip: npm === '' ? 'no npm on PATH' : false }, () => {
  it('a TERM to npm stops the orphaned master gracefully, and it says why', async () => {
    writeFileSync(join(dir, 'app.mjs'), readFileSync(fixture('app.mjs')));
    const script = `"${process.execPath}" "${BIN}" app.mjs -b 127.0.0.1:0 -w 2`;
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'npm-start-app', private: true, scripts: { start: script } }),
    );
    const t = new Tsgun(['start'], { bin: npm, cwd: dir });
    group = t.pid;
    const [ready] = await t.waitForReady(2, 0, 20_000);
    const master = Number(ready!.pid);
    assert.notEqual(master, t.pid, 'npm is not the master');
    process.kill(t.pid, 'SIGTERM');
    const said = await t.waitForLog((l) => /the process that started tsgun .* is gone/.test(l.msg));
    assert.equal(said.pid, master);
    assert.ok(await pollUntil(() => !isAlive(master), 15_000), 'the master stopped');
    assert.ok(
      t.logs.some((l) => l.pid === master && l.msg === 'shutdown complete'),
      'a graceful stop, to the end',
    );
  });
});
