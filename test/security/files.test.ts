import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture, killAll, plainLines, runTsgun, startApp, type Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** A directory with a file worth protecting, as a root-owned target a user would aim a link at. */
function plant(): { dir: string; victim: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-sec-'));
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'precious\n');
  return { dir, victim };
}

describe('files written as root', () => {
  it('--pid through a planted symlink: the target is untouched, the pidfile is a plain file', async () => {
    const { dir, victim } = plant();
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

  it('-b unix:PATH in a directory every user may write (not sticky) is refused with one line', async () => {
    const { dir } = plant();
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await runTsgun([fixture('app.mjs'), '-b', `unix:${join(open, 'app.sock')}`]);
    assert.equal(r.code, 2);
    const lines = plainLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /writable by every user and not sticky/);
    chmodSync(open, 0o1777);
    const t = startApp('-b', `unix:${join(open, 'ok.sock')}`);
    await t.waitForReady(1);
    t.kill();
  });
});
