import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { NotifySocket } from '../helpers/notify-socket.js';
import { fixture, killAll, Tsgun } from '../helpers/tsgun.js';

after(killAll);

const scratch = mkdtempSync(join(tmpdir(), 'tsgun-notify-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The kinds of messages in order, as systemd would read them. */
function kinds(socket: NotifySocket): string[] {
  return socket.messages.map((m) =>
    m.fields['RELOADING'] === '1'
      ? 'RELOADING'
      : m.fields['STOPPING'] === '1'
        ? 'STOPPING'
        : m.fields['MAINPID']
          ? `READY MAINPID=${m.fields['MAINPID']}`
          : 'READY',
  );
}

/** Two workers, NOTIFY_SOCKET set to `notifySocket` ('' to leave it empty). */
function startNotified(notifySocket: string, env: NodeJS.ProcessEnv = {}): Tsgun {
  return new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '-w', '2'], {
    env: { NOTIFY_SOCKET: notifySocket, ...env },
  });
}

describe('systemd Type=notify (a real datagram socket as NOTIFY_SOCKET)', () => {
  it('start, HUP, USR2, TERM: READY+MAINPID, RELOADING then READY, the new MAINPID, STOPPING', async () => {
    const socket = new NotifySocket();
    after(() => socket.close());
    await socket.listening;
    const t = startNotified(socket.path);
    await t.waitForReady(2);
    const ready = await socket.waitFor((m) => m.fields['READY'] === '1');
    assert.equal(ready.fields['MAINPID'], String(t.pid));
    assert.equal(ready.fields['STATUS'], '2 worker(s) ready');
    if (process.getuid?.() === 0) assert.equal(ready.pid, t.pid, 'sent as the master');

    // HUP: RELOADING=1 with the monotonic time of this machine, then READY=1 once replaced.
    const before = socket.messages.length;
    await t.reload();
    const done = await socket.waitFor((m) => m.fields['READY'] === '1', before);
    const reloading = socket.messages[before]!;
    assert.equal(reloading.fields['RELOADING'], '1');
    const usec = Number(reloading.fields['MONOTONIC_USEC']);
    assert.ok(
      usec <= reloading.receivedUsec && usec > reloading.receivedUsec - 10_000_000,
      `${usec}`,
    );
    assert.equal(done.fields['STATUS'], 'reload complete: 2 worker(s) ready');

    // USR2: the new master names itself once its workers are ready; the old one stops silently.
    const newMaster = await t.upgrade(2);
    await socket.waitFor((m) => m.fields['MAINPID'] === String(newMaster));
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.pid === newMaster && l.msg === 'master has been promoted', 20_000);
    assert.equal((await request(await t.url())).status, 200);
    const mark = t.logs.length;
    process.kill(newMaster, 'SIGTERM');
    await socket.waitFor((m) => m.fields['STOPPING'] === '1');
    await t.waitForLog((l) => l.pid === newMaster && l.msg === 'shutdown complete', 20_000, mark);
    assert.deepEqual(kinds(socket), [
      `READY MAINPID=${t.pid}`,
      'RELOADING',
      'READY',
      `READY MAINPID=${newMaster}`,
      'STOPPING',
    ]);
  });

  it('a USR2 whose new master stops first: the old master is the main process again', async () => {
    const socket = new NotifySocket();
    after(() => socket.close());
    await socket.listening;
    const t = startNotified(socket.path);
    await t.waitForReady(2);
    const newMaster = await t.upgrade(2);
    await socket.waitFor((m) => m.fields['MAINPID'] === String(newMaster));
    process.kill(newMaster, 'SIGTERM');
    await t.waitForLog((l) => l.msg === 'the upgraded master exited', 20_000);
    await socket.waitFor((m) => m.fields['MAINPID'] === String(t.pid), 2);
    t.signal('SIGTERM');
    await t.exited;
    await socket.waitFor((m) => m.fields['STOPPING'] === '1');
    assert.deepEqual(kinds(socket), [
      `READY MAINPID=${t.pid}`,
      `READY MAINPID=${newMaster}`,
      `READY MAINPID=${t.pid}`,
      'STOPPING',
    ]);
  });

  it('systemd-notify missing: one warning line, and the server keeps serving through a HUP', async () => {
    const t = startNotified(join(scratch, 'nobody-listens.sock'), {
      PATH: join(scratch, 'empty-path'),
    });
    await t.waitForReady(2);
    const warning = await t.waitForLog((l) => l.msg.startsWith('systemd notify:'));
    assert.match(warning.msg, /cannot run systemd-notify .*ENOENT.*the server keeps serving/);
    await t.reload();
    assert.equal((await request(await t.url())).status, 200);
    assert.equal(t.logs.filter((l) => l.msg.startsWith('systemd notify:')).length, 1);
    t.kill();
  });

  it('without NOTIFY_SOCKET nothing is spawned', async () => {
    // A systemd-notify first on PATH that leaves a trace: the control run shows it would.
    const bin = join(scratch, 'bin');
    const trace = join(scratch, 'trace');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'systemd-notify'), `#!/bin/sh\necho "$@" >> '${trace}'\n`);
    chmodSync(join(bin, 'systemd-notify'), 0o755);
    const env = { PATH: `${bin}:${process.env['PATH']}` };
    const quiet = startNotified('', env);
    await quiet.waitForReady(2);
    await quiet.reload();
    quiet.kill();
    assert.equal(existsSync(trace), false);
    const control = startNotified(join(scratch, 'x.sock'), env);
    await control.waitForReady(2);
    await control.reload();
    control.kill();
    assert.equal(existsSync(trace), true);
  });
});
