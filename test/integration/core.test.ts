import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getJson, request } from '../helpers/http.js';
import { listenQueue } from '../helpers/kernel.js';
import { fixture, isAlive, killAll, plainLines, runTsgun, startApp } from '../helpers/tsgun.js';

after(killAll);

describe('the master binds, workers accept', () => {
  it('answers from a worker pid, never the master, and passes the backlog to the kernel', async () => {
    const t = startApp('-w', '2', '--backlog', '1000');
    await t.waitForReady(2);
    const url = await t.url();
    // CI names the Node it runs the suite under (.ci/run): the runner itself must be that one.
    const expected = process.env['CI_NODE_VERSION'];
    if (expected) assert.equal(process.version, expected, 'the suite runs under another Node');
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const reply = await getJson<{ pid: number; node: string }>(url);
      pids.add(reply.pid);
      assert.equal(reply.node, process.version, 'a worker runs another Node than the test runner');
    }
    assert.ok(!pids.has(t.pid), 'the master answered a request');
    const workerPids = t.liveWorkerPids();
    for (const pid of pids) assert.ok(workerPids.includes(pid), `pid ${pid} is not a worker`);
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    assert.equal(listenQueue(await t.port()).sendQ, Math.min(1000, somaxconn));
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('warns when --backlog exceeds somaxconn and says the effective value', async () => {
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const t = startApp('--backlog', String(somaxconn + 1));
    const warning = await t.waitForLog((l) => l.msg.includes('exceeds net.core.somaxconn'));
    assert.match(warning.msg, new RegExp(`the kernel uses ${somaxconn}`));
    await t.waitForReady(1);
    assert.equal(listenQueue(await t.port()).sendQ, somaxconn);
    t.kill();
  });

  it('binds several addresses, a unix socket among them, and removes the socket file on exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const path = join(dir, 'app.sock');
    const t = startApp('-b', `unix:${path}`);
    await t.waitForReady(1);
    const tcp = await getJson<{ pid: number }>(await t.url());
    const unix = JSON.parse((await request('http://localhost/', { socketPath: path })).body) as {
      pid: number;
    };
    assert.equal(tcp.pid, unix.pid);
    t.signal('SIGTERM');
    await t.exited;
    assert.equal(existsSync(path), false);
  });

  it('reports a port in use in one line naming the address, exit code 2', async () => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runTsgun([fixture('app.mjs'), '-b', `127.0.0.1:${port}`]);
      assert.equal(r.code, 2);
      assert.deepEqual(plainLines(r.stderr), [
        `tsgun: error: address already in use: 127.0.0.1:${port} [TSGUN_ERR_BIND]`,
      ]);
    } finally {
      blocker.close();
    }
  });

  it('writes and removes the pidfile, and refuses one that names a running process', async () => {
    const pidfile = join(mkdtempSync(join(tmpdir(), 'tsgun-')), 'tsgun.pid');
    const t = startApp('-p', pidfile);
    await t.waitForReady(1);
    assert.equal(Number(readFileSync(pidfile, 'utf8')), t.pid);
    const second = await runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '-p', pidfile]);
    assert.equal(second.code, 2);
    assert.match(plainLines(second.stderr)[0]!, new RegExp(`names running process ${t.pid}`));
    t.signal('SIGTERM');
    await t.exited;
    assert.equal(existsSync(pidfile), false);
  });

  it('passes -e variables to the workers', async () => {
    const t = startApp('-e', 'FIXTURE_VALUE=hello=world');
    await t.waitForReady(1);
    assert.equal((await getJson<{ env: string }>(await t.url())).env, 'hello=world');
    t.kill();
  });

  it('takes every worker down within 2 s when the master is SIGKILLed', async () => {
    const t = startApp('-w', '3');
    const ready = await t.waitForReady(3);
    const pids = ready.map((l) => l['workerPid'] as number);
    process.kill(t.pid, 'SIGKILL');
    const deadline = Date.now() + 2000;
    // Not our children: no exit event to wait on, so poll their liveness until the deadline.
    while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(pids.filter(isAlive), [], 'workers outlived their master by more than 2 s');
  });
});
