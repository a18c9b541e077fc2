import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { freePort, getJson, request } from '../helpers/http.js';
import { listenQueue } from '../helpers/kernel.js';
import { fixture, killAll, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/**
 * No bind configured (no -b, no PORT): the master binds the port the app's own listen() asks for
 * (`listen(PORT || APP_PORT)`, APP_PORT standing for the usual 3000 on a port found free), as
 * PM2 and `node server.js` serve it.
 */
function ownPort(appPort: number, args: readonly string[] = []): Tsgun {
  return new Tsgun([fixture('listen-app.mjs'), ...args], {
    env: { LISTEN_FORM: 'own-port', APP_PORT: String(appPort), PORT: undefined },
  });
}

interface Seen {
  pid: number;
  port: string | null;
  address: { port: number } | null;
}

describe('no bind configured: the app chooses its port', () => {
  it("serves the app's own port from every worker, with --backlog, and PORT left unset", async () => {
    const appPort = await freePort();
    const t = ownPort(appPort, ['-w', '2', '--backlog', '77']);
    const ready = await t.waitForReady(2);
    assert.equal(await t.port(), appPort, 'the master says where it listens');
    const pids = new Set(ready.map((l) => l['workerPid']));
    const seen = new Set<number>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const s = await getJson<Seen>(`http://127.0.0.1:${appPort}/`);
      assert.ok(pids.has(s.pid), 'answered by a worker');
      assert.equal(s.port, null, "PORT is not set: the app's own default applies");
      assert.equal(s.address?.port, appPort, 'server.address() tells the real port');
      seen.add(s.pid);
    }
    assert.equal(seen.size, 2, 'every worker accepts on the socket');
    assert.equal(listenQueue(appPort).sendQ, 77, '--backlog applies');
    const listening = t.logs.filter((l) => l.msg.startsWith('listening at'));
    assert.equal(listening.length, 1, 'bound once, by the master');
    assert.equal(listening[0]!.pid, t.pid);
  });

  it('keeps the socket when every worker is SIGKILLed: a request made during the respawn is answered', async () => {
    const appPort = await freePort();
    const t = ownPort(appPort, ['-w', '2']);
    const ready = await t.waitForReady(2);
    const old = ready.map((l) => l['workerPid'] as number);
    const mark = t.logs.length;
    for (const pid of old) process.kill(pid, 'SIGKILL');
    for (const pid of old)
      await t.waitForLog((l) => l['workerPid'] === pid && l['signal'] === 'SIGKILL', 10_000, mark);
    const readyBefore = t.logs.slice(mark).filter((l) => l.msg === 'worker ready').length;
    const reply = await request(`http://127.0.0.1:${appPort}/`);
    assert.equal(readyBefore, 0, 'the request was made while no worker was ready');
    assert.equal(reply.status, 200);
    const { pid } = JSON.parse(reply.body) as Seen;
    assert.ok(!old.includes(pid), 'answered by a new worker');
    const listening = t.logs.filter((l) => l.msg.startsWith('listening at'));
    assert.equal(listening.length, 1, 'the same socket, never bound again');
  });

  it('says a foreign process holds the port, and exits non-zero', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, resolve));
    const appPort = (holder.address() as { port: number }).port;
    try {
      const r = await runTsgun([fixture('listen-app.mjs'), '-w', '1'], {
        env: { LISTEN_FORM: 'own-port', APP_PORT: String(appPort), PORT: undefined },
      });
      assert.notEqual(r.code, 0);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`another process holds port ${appPort}`));
      assert.match(lines[0]!, /\[TSGUN_ERR_BIND\]$/);
    } finally {
      holder.close();
    }
  });

  it('with -b given, serves on the bind as before (the app asked for another port)', async () => {
    const appPort = await freePort();
    const t = ownPort(appPort, ['-b', '127.0.0.1:0', '-w', '1']);
    await t.waitForReady(1);
    const port = await t.port();
    assert.notEqual(port, appPort);
    const s = await getJson<Seen>(`http://127.0.0.1:${port}/`);
    assert.equal(s.port, String(port), 'PORT names the bound port');
    await assert.rejects(request(`http://127.0.0.1:${appPort}/`), /ECONNREFUSED/);
  });

  it('an exported app (no listen()) is still served on 127.0.0.1:8000', async (ctx) => {
    const taken = await new Promise<boolean>((resolve) => {
      const probe = createServer().once('error', () => resolve(true));
      probe.listen(8000, '127.0.0.1', () => probe.close(() => resolve(false)));
    });
    if (taken) {
      ctx.skip('127.0.0.1:8000 is in use here');
      return;
    }
    const t = new Tsgun([fixture('app.mjs'), '-w', '1'], { env: { PORT: undefined } });
    await t.waitForReady(1);
    assert.equal(await t.url(), 'http://127.0.0.1:8000');
    const reply = await request('http://127.0.0.1:8000/');
    assert.equal(reply.status, 200);
  });
});

describe('no bind configured, after a USR2', () => {
  it("the new master serves the same socket, still on the app's port, PORT still unset", async () => {
    const appPort = await freePort();
    const t = ownPort(appPort, ['-w', '1']);
    await t.waitForReady(1);
    const newMaster = await t.upgrade(1);
    const adopted = await t.waitForLog(
      (l) => l.pid === newMaster && l.msg.startsWith('listening at'),
    );
    assert.equal(new URL(adopted['address'] as string).port, String(appPort));
    t.signal('SIGTERM');
    const mark = t.logs.length;
    await t.waitForLog((l) => l.pid === t.pid && l.msg === 'shutdown complete', 15_000, mark);
    const s = await getJson<Seen>(`http://127.0.0.1:${appPort}/`);
    assert.ok(
      t.logs.some((l) => l.pid === newMaster && l['workerPid'] === s.pid),
      "answered by the new master's worker",
    );
    assert.equal(s.port, null, 'PORT is not set');
    assert.equal(t.logs.filter((l) => l.msg.startsWith('no bind configured')).length, 1);
    // The old master has exited: killAll no longer knows the new one, so it is stopped here.
    process.kill(newMaster, 'SIGTERM');
    await t.waitForLog((l) => l.pid === newMaster && l.msg === 'shutdown complete', 15_000, mark);
  });
});
