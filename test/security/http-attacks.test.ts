import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { killAll, startApp, type Tsgun } from '../helpers/tsgun.js';
import { type AttackCase, CASES, type Outcome } from './cases.js';
import { startTarget } from './target.js';

after(killAll);

describe('hostile requests in direct mode (-w 1, default limits)', () => {
  let target: { t: Tsgun; send: (c: AttackCase) => Promise<Outcome> };
  before(async () => {
    target = await startTarget();
  });
  for (const c of CASES) {
    it(`${c.id}: ${c.what} -> ${c.status}, then close`, async () => {
      const o = await target.send(c);
      assert.equal(o.status, c.status);
      assert.equal(o.responses, 1, 'a second (smuggled) request was answered');
      assert.equal(o.closed, true, 'the connection stayed open');
    });
  }
  it('no smuggled request reached the app', () => {
    assert.ok(!target.t.stderrText.includes('/smuggled'));
    target.t.kill();
  });
});

describe('files', () => {
  it('--pid through a planted symlink: the target is untouched, the pidfile is a plain file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-sec-'));
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const pidfile = join(dir, 'tsgun.pid');
    symlinkSync(victim, pidfile);
    const t: Tsgun = startApp('-w', '1', '--pid', pidfile);
    await t.waitForReady(1);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(lstatSync(pidfile).isSymbolicLink(), false);
    assert.equal(readFileSync(pidfile, 'utf8').trim(), String(t.pid));
    t.signal('SIGTERM');
    await t.exited;
    assert.equal(existsSync(victim), true);
  });
});
