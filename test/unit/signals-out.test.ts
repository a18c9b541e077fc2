import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adoptChild, maySignal, signalChild } from '../../src/master/host/own-children.js';
import { parsePid } from '../../src/master/host/pid.js';
import { writePidfile } from '../../src/master/host/pidfile.js';
import { findInherited } from '../../src/master/sockets/inherited.js';
import { classifyForkFailure } from '../../src/master/workers/classify.js';

const started: ChildProcess[] = [];
after(() => {
  for (const c of started) c.kill('SIGKILL');
});

/** A real process that waits for a signal; `adopt` makes it one of "our" children. */
function sleeper(adopt: boolean): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
  });
  started.push(child);
  if (adopt) assert.equal(adoptChild(child), child.pid);
  return child;
}

describe('maySignal (the pid guard)', () => {
  const live = new Set([4242]);
  it('refuses every pid that is not a positive integer above 1', () => {
    for (const pid of [-1, 0, 1, Number.NaN, 1.5, -4242, Number.POSITIVE_INFINITY, undefined, null])
      assert.equal(maySignal(pid, new Set([...live, pid as number])), false, String(pid));
    assert.equal(maySignal('4242', live), false);
  });
  it('refuses a pid that is not a live child', () => {
    assert.equal(maySignal(4243, live), false);
    assert.equal(maySignal(4242, live), true);
  });
});

describe('signalChild (real processes)', () => {
  it('signals a live child it adopted', async () => {
    const child = sleeper(true);
    const exited = once(child, 'exit');
    assert.equal(signalChild(child.pid!, 'SIGTERM'), true);
    assert.deepEqual(await exited, [null, 'SIGTERM']);
  });

  it('refuses a child once it has exited (its pid may belong to someone else by then)', async () => {
    const child = sleeper(true);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(signalChild(child.pid!, 'SIGTERM'), false);
  });

  it('refuses a process it never forked, which keeps running', async () => {
    const stranger = sleeper(false);
    await once(stranger, 'spawn');
    assert.equal(signalChild(stranger.pid!, 'SIGKILL'), false);
    assert.equal(signalChild(-1, 'SIGKILL'), false);
    assert.equal(signalChild(null, 'SIGKILL'), false);
    assert.equal(stranger.exitCode, null);
    // It is really alive: signal 0 reaches it.
    assert.doesNotThrow(() => process.kill(stranger.pid!, 0));
  });

  it('adopts nothing from a failed fork (no pid)', async () => {
    const failed = spawn('/nonexistent/tsgun-test-binary', [], { stdio: 'ignore' });
    const error = once(failed, 'error');
    assert.equal(adoptChild(failed), null);
    const [err] = (await error) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ENOENT');
  });
});

describe('parsePid (pids from pidfiles and the environment)', () => {
  it('takes decimal digits only, above 1', () => {
    assert.equal(parsePid('1234\n'), 1234);
    assert.equal(parsePid(' 77 '), 77);
    for (const bad of ['-1', '0', '1', '12abc', '0x10', '1e3', '', '  ', '1.5', '99999999999'])
      assert.equal(parsePid(bad), null, bad);
    assert.equal(parsePid(undefined), null);
  });
});

describe('pids from outside are validated before use', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-pid-'));
  it('a pidfile naming no valid pid ("-1", "0", garbage) is overwritten, not probed', () => {
    for (const [i, content] of ['-1\n', '0', '1', 'tsgun\n', '12abc'].entries()) {
      const path = join(dir, `garbage-${i}.pid`);
      writeFileSync(path, content);
      writePidfile(path);
      assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`, content);
    }
  });
  it('a symlink planted at the pidfile path is replaced, its target never written', () => {
    const target = join(dir, 'precious.conf');
    writeFileSync(target, 'keep me\n');
    const path = join(dir, 'planted.pid');
    symlinkSync(target, path);
    writePidfile(path);
    assert.equal(readFileSync(target, 'utf8'), 'keep me\n');
    assert.equal(lstatSync(path).isSymbolicLink(), false);
    assert.equal(readFileSync(path, 'utf8'), `${process.pid}\n`);
  });
  it('a pidfile naming a running process is refused', async () => {
    const other = sleeper(false);
    await once(other, 'spawn');
    const path = join(dir, 'running.pid');
    writeFileSync(path, `${other.pid}\n`);
    assert.throws(() => writePidfile(path), /names running process/);
  });
  it('LISTEN_PID and TSGUN_MASTER_PID must be plain pids', () => {
    const me = process.pid;
    assert.equal(findInherited({ LISTEN_FDS: '1', LISTEN_PID: `${me}abc` }, me), null);
    assert.equal(findInherited({ LISTEN_FDS: '1', LISTEN_PID: `${me}` }, me)?.fds.length, 1);
    const upgrade = findInherited({ TSGUN_FD: '3', TSGUN_MASTER_PID: '-1' }, me);
    assert.equal(upgrade?.upgradeFrom, null);
  });
});

describe('classifyForkFailure', () => {
  it('halts a start that never had a worker, retries once one served or one is alive', () => {
    assert.equal(classifyForkFailure({ everReady: false, liveWorkers: 0 }), 'halt');
    assert.equal(classifyForkFailure({ everReady: false, liveWorkers: 2 }), 'retry');
    assert.equal(classifyForkFailure({ everReady: true, liveWorkers: 0 }), 'retry');
  });
});
