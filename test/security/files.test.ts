import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lchownSync,
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

  it('in a sticky directory every user may write, a stale socket of another user is refused, not replaced', {
    skip: process.getuid?.() === 0 ? false : 'needs root (to give the socket file to another user)',
  }, async () => {
    const { dir } = plant();
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    const path = join(shared, 'app.sock');
    // A socket file whose process died (SIGKILL: nothing removed it), left by uid 65534.
    const died = spawnSync(process.execPath, [
      '-e',
      "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))",
      path,
    ]);
    assert.equal(died.signal, 'SIGKILL');
    lchownSync(path, 65534, 65534);
    for (const flag of ['-b', '--stats']) {
      const args =
        flag === '-b' ? ['-b', `unix:${path}`] : ['-b', '127.0.0.1:0', '--stats', `unix:${path}`];
      const r = await runTsgun([fixture('app.mjs'), ...args]);
      assert.equal(r.code, 2, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0]!,
        /a socket of another user \(uid 65534\) is at the path, in a directory every user may write: refusing to replace it/,
      );
      assert.equal(lstatSync(path).uid, 65534, 'the file is still there, still theirs');
    }
    // The same stale file, owned by --user's uid: tsgun's own from an earlier run, so replaced.
    const t = startApp('-b', `unix:${path}`, '--user', '65534', '--group', '65534');
    await t.waitForReady(1);
    assert.equal(lstatSync(path).isSocket(), true);
    t.signal('SIGTERM');
    await t.exited;
  });
});
