import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { boundTcpHandle, getJson, request } from '../helpers/http.js';
import {
  fixture,
  killAll,
  NOBODY,
  nobodySkip,
  plainLines,
  runTsgun,
  startApp,
  Tsgun,
} from '../helpers/tsgun.js';

after(killAll);

describe('readiness gate', () => {
  it('--wait-ready: a worker is ready only once the app calls ready()', async () => {
    const t = new Tsgun([fixture('wait-ready.mjs'), '-b', '127.0.0.1:0', '--wait-ready']);
    const [ready] = await t.waitForReady(1);
    const called = t.logs.findIndex((l) => l.msg === 'fixture: calling ready');
    assert.ok(called >= 0 && called < t.logs.indexOf(ready!), 'ready before the app said so');
    assert.equal((await getJson<{ warm: boolean }>(await t.url())).warm, true);
    t.kill();
  });

  it('--ready-timeout at start: stops with one line and exit code 3', async () => {
    const r = await runTsgun(
      [fixture('wait-ready.mjs'), '-b', '127.0.0.1:0', '--wait-ready', '--ready-timeout', '0.5'],
      {
        env: { FIXTURE_NEVER_READY: '1' },
      },
    );
    assert.equal(r.code, 3);
    assert.match(
      plainLines(r.stderr)[0]!,
      /worker was not ready within --ready-timeout 0\.5 s \[TSGUN_ERR_WORKER_NOT_READY\]/,
    );
  });

  it('--ready-timeout during a HUP: the reload is aborted and the old workers keep serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const app = join(dir, 'app.mjs');
    copyFileSync(fixture('app.mjs'), app);
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2', '--ready-timeout', '1']);
    await t.waitForReady(2);
    const before = t.liveWorkerPids().sort();
    // The new code never finishes booting.
    writeFileSync(app, 'await new Promise(() => {});\nexport default () => {};\n');
    const mark = t.logs.length;
    t.signal('SIGHUP');
    // The new worker says why itself, just before the master's --ready-timeout would.
    const aborted = await t.waitForLog(
      (l) =>
        /did not call listen\(\) within 0\.9 s .*still loading.*; keeping 2 serving/.test(l.msg),
      10_000,
      mark,
    );
    assert.equal(aborted.level, 50);
    assert.deepEqual(t.liveWorkerPids().sort(), before);
    assert.ok(before.includes((await getJson<{ pid: number }>(await t.url())).pid));
    t.kill();
  });

  it('a HUP aborted half-way in router mode: the old worker left takes new --sticky cookie sessions again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const app = join(dir, 'app.mjs');
    copyFileSync(fixture('app.mjs'), app);
    const t = new Tsgun([
      app,
      '-b',
      '127.0.0.1:0',
      '-w',
      '2',
      '--router',
      '--sticky',
      'cookie',
      '--ready-timeout',
      '1',
    ]);
    await t.waitForReady(2);
    // The new code: the first worker to boot it serves; the next one never finishes booting.
    const marker = join(dir, 'booted-once');
    writeFileSync(
      app,
      [
        "import { existsSync, writeFileSync } from 'node:fs';",
        `if (existsSync(${JSON.stringify(marker)})) await new Promise(() => {});`,
        `writeFileSync(${JSON.stringify(marker)}, '');`,
        `export { default } from ${JSON.stringify(fixture('app.mjs'))};`,
      ].join('\n'),
    );
    const mark = t.logs.length;
    t.signal('SIGHUP');
    await t.waitForLog((l) => /reload aborted/.test(l.msg), 15_000, mark);
    const url = await t.url();
    // New sessions (no cookie): the old worker still serving is current again, so both the
    // new worker and it are pinned to, not only the one the aborted reload started.
    const pinned = new Set<string>();
    for (const deadline = Date.now() + 10_000; pinned.size < 2 && Date.now() < deadline; ) {
      const r = await request(`${url}/`);
      pinned.add(String(r.headers['set-cookie']).split(';')[0]!);
    }
    assert.equal(pinned.size, 2, `new sessions pinned to: ${[...pinned].join(', ')}`);
    t.kill();
  });

  it('--reload-batch 2 replaces two workers at a time', async () => {
    const t = startApp('-w', '4', '--reload-batch', '2');
    await t.waitForReady(4);
    const mark = t.logs.length;
    t.signal('SIGHUP');
    await t.waitForLog((l) => l.msg === 'reload complete', 20_000, mark);
    const events = t.logs
      .slice(mark)
      .filter((l) => l.msg === 'booting worker' || l.msg === 'worker exited');
    // Two boots, then two old workers stop, then the next two boots.
    assert.deepEqual(
      events.slice(0, 2).map((l) => l.msg),
      ['booting worker', 'booting worker'],
    );
    assert.equal(events.filter((l) => l.msg === 'booting worker').length, 4);
    t.kill();
  });
});

describe('keeping workers healthy', () => {
  it('--request-timeout answers 504 and the worker lives on', async () => {
    const t = startApp('--request-timeout', '0.3');
    const [ready] = await t.waitForReady(1);
    const url = await t.url();
    const slow = await request(`${url}/slow?ms=1500`);
    assert.equal(slow.status, 504);
    await t.waitForLog((l) => l.msg === 'request timed out (--request-timeout)');
    assert.equal((await getJson<{ pid: number }>(url)).pid, ready!['workerPid']);
    t.kill();
  });

  it('a worker that keeps crashing is respawned with exponential backoff', async () => {
    const t = new Tsgun([
      fixture('crash-soon.mjs'),
      '-b',
      '127.0.0.1:0',
      '-e',
      'FIXTURE_CRASH_MS=300',
    ]);
    const third = await t.waitForLog(
      (l) => l.msg.includes('crash 3 in a row: waiting 200 ms'),
      15_000,
    );
    const second = t.logs.find((l) => l.msg.includes('crash 2 in a row: waiting 100 ms'));
    assert.ok(second && t.logs.indexOf(second) < t.logs.indexOf(third));
    assert.match(third.msg, /^worker exited with code 1/);
    t.kill();
  });

  it('--max-worker-lifetime recycles workers gracefully', async () => {
    const t = startApp('--max-worker-lifetime', '0.5');
    await t.waitForReady(2);
    assert.ok(t.logs.some((l) => /^replacing worker: ran for 0\.5 s/.test(l.msg)));
    t.kill();
  });
});

describe('sockets from outside', () => {
  it('systemd socket activation: LISTEN_FDS/LISTEN_PID sockets from fd 3', async () => {
    const socket = boundTcpHandle();
    // LISTEN_PID must be tsgun's own pid: the shell execs node, so its pid is $$.
    const t = new Tsgun([fixture('app.mjs')], {
      fds: [socket.fd],
      shellPrefix: 'LISTEN_PID=$$ LISTEN_FDS=1 exec',
    });
    socket.close();
    await t.waitForReady(1);
    assert.ok(t.logs.some((l) => /inherited socket\(s\) from LISTEN_FDS/.test(l.msg)));
    const reply = await getJson<{ pid: number }>(`http://127.0.0.1:${socket.port}/`);
    assert.notEqual(reply.pid, t.pid);
    t.kill();
  });

  it('--bind fd://N serves on an inherited socket', async () => {
    const socket = boundTcpHandle();
    const t = new Tsgun([fixture('app.mjs'), '-b', 'fd://3'], { fds: [socket.fd] });
    socket.close();
    await t.waitForReady(1);
    assert.equal((await request(`http://127.0.0.1:${socket.port}/`)).status, 200);
    t.kill();
  });

  it('rejects an fd that is not a socket', async () => {
    const r = await runTsgun([fixture('app.mjs'), '-b', 'fd://9']);
    assert.equal(r.code, 2);
    assert.match(plainLines(r.stderr)[0]!, /fd:\/\/9/);
  });
});

describe('privileges', () => {
  it('--umask applies to the unix socket the master creates', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tsgun-')), 's.sock');
    const t = new Tsgun([fixture('app.mjs'), '-b', `unix:${path}`, '--umask', '0o077']);
    await t.waitForReady(1);
    assert.equal(statSync(path).mode & 0o777, 0o700);
    t.kill();
  });

  it('--user nobody: workers run as nobody while the master stays root', {
    skip: nobodySkip,
  }, async () => {
    const t = startApp('--user', 'nobody');
    await t.waitForReady(1);
    const reply = await getJson<{ uid: number; pid: number }>(await t.url());
    assert.equal(reply.uid, NOBODY);
    assert.notEqual(reply.pid, t.pid);
    t.kill();
  });

  it('--user with an unknown name is a one-line config error', async () => {
    const r = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--user',
      'no-such-user-xyz',
    ]);
    assert.equal(r.code, 2);
    assert.match(
      plainLines(r.stderr)[0]!,
      /--user: no such user: no-such-user-xyz \[TSGUN_ERR_USER\]/,
    );
  });
});

describe('HUP re-reads the config', () => {
  it('applies what may change, and reports what needs a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const config = join(dir, 'tsgun.json');
    writeFileSync(config, JSON.stringify({ workers: 1, bind: ['127.0.0.1:0'] }));
    const t = new Tsgun([fixture('app.mjs'), '-c', config]);
    await t.waitForReady(1);
    writeFileSync(config, JSON.stringify({ workers: 3, bind: ['127.0.0.1:1'] }));
    const mark = t.logs.length;
    t.signal('SIGHUP');
    const warning = await t.waitForLog(
      (l) => l.msg.startsWith('reload: --bind changed but needs a restart'),
      10_000,
      mark,
    );
    assert.equal(warning.level, 40);
    await t.waitForLog((l) => l.msg === 'reload complete', 10_000, mark);
    assert.equal(t.liveWorkerPids().length, 3);
    t.kill();
  });

  it('keeps the running config when the new one is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const config = join(dir, 'tsgun.json');
    writeFileSync(config, JSON.stringify({ workers: 2, bind: ['127.0.0.1:0'] }));
    const t = new Tsgun([fixture('app.mjs'), '-c', config]);
    await t.waitForReady(2);
    writeFileSync(config, JSON.stringify({ workers: 'many' }));
    const mark = t.logs.length;
    t.signal('SIGHUP');
    const error = await t.waitForLog(
      (l) => l.msg.startsWith('reload: config is invalid'),
      10_000,
      mark,
    );
    assert.match(String(error['err']), /--workers: expected an integer, got "many"/);
    await t.waitForLog((l) => l.msg === 'reload complete', 10_000, mark);
    assert.equal(t.liveWorkerPids().length, 2);
    t.kill();
  });
});

describe('binary upgrade rollback', () => {
  it('USR2, WINCH, then HUP the old master and TERM the new one: the old serves again', async () => {
    const t = startApp('-w', '1');
    await t.waitForReady(1);
    const url = await t.url();
    const newMaster = await t.upgrade(1);
    let mark = t.logs.length;
    t.signal('SIGWINCH');
    await t.waitForLog((l) => l.pid === t.pid && l.msg === 'worker exited', 10_000, mark);
    mark = t.logs.length;
    t.signal('SIGHUP');
    await t.waitForLog((l) => l.pid === t.pid && l.msg === 'worker ready', 10_000, mark);
    process.kill(newMaster, 'SIGTERM');
    await t.waitForLog(
      (l) => l.pid === t.pid && l.msg === 'the upgraded master exited',
      10_000,
      mark,
    );
    const oldWorkers = t.liveWorkerPids();
    const reply = await getJson<{ pid: number }>(url);
    assert.ok(
      t.logs.some(
        (l) => l.pid === t.pid && l['workerPid'] === reply.pid && l.msg === 'worker ready',
      ),
    );
    assert.ok(oldWorkers.length >= 1);
    t.kill();
  });
});
