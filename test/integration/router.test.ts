import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  clientLoop,
  freePort,
  getJson,
  openWebSocket,
  rawRequest,
  request,
  webSocketHandshake,
} from '../helpers/http.js';
import { fixture, killAll, startRouter, Tsgun } from '../helpers/tsgun.js';

after(killAll);

interface Echo {
  pid: number;
  url?: string;
  forwarded?: { for: string | null; proto: string | null; host: string | null };
}

function routerPid(t: Tsgun): number {
  const lines = t.logs.filter((l) => l.msg === 'booting router');
  return lines[lines.length - 1]!['routerPid'] as number;
}

/** Resolves with the pid of the worker where the next /slow request arrived (from its log). */
function slowStarted(t: Tsgun, from: number, nth = 1): Promise<number> {
  let seen = 0;
  return t
    .waitForLog((l) => l.msg === 'fixture: slow request started' && ++seen === nth, 10_000, from)
    .then((l) => l.pid);
}

describe('router mode', () => {
  it('proxies to every worker and sets X-Forwarded-* (kept only from a trusted peer)', async () => {
    const t = await startRouter(2);
    const url = await t.url();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) pids.add((await getJson<Echo>(`${url}/`, agent)).pid);
    agent.destroy();
    assert.equal(pids.size, 2, 'requests go to both workers');
    assert.ok(!pids.has(t.pid), 'the master is not in the data path');

    // 127.0.0.1 is trusted by default (Gunicorn's forwarded_allow_ips): its headers are extended.
    const port = new URL(url).port;
    const trusted = JSON.parse(
      (await request(`${url}/`, { headers: { 'x-forwarded-for': '1.2.3.4' } })).body,
    ) as Echo;
    assert.deepEqual(trusted.forwarded, {
      for: '1.2.3.4, 127.0.0.1',
      proto: 'http',
      host: `127.0.0.1:${port}`,
    });
    t.kill();

    const u = await startRouter(1, '--forwarded-allow-ips', '10.0.0.0/8');
    const url2 = await u.url();
    const forged = JSON.parse(
      (
        await request(`${url2}/`, {
          headers: { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https' },
        })
      ).body,
    ) as Echo;
    assert.equal(forged.forwarded?.for, '127.0.0.1', 'an untrusted peer cannot forge its address');
    assert.equal(forged.forwarded?.proto, 'http');
    u.kill();
  });

  it('20 HUP reloads with keep-alive clients: no failed request, no client reconnect', async () => {
    const t = await startRouter(2);
    const url = await t.url();
    const before = new Set(t.liveWorkerPids());
    const load = clientLoop(`${url}/`, { concurrency: 4, keepAlive: 'yes' });
    for (let i = 0; i < 20; i++) await t.reload(20_000);
    const result = await load.stop();
    console.log(
      `# 20 reloads under keep-alive load: ${result.ok} ok, ${result.failed} failed, ${result.keepAliveConnections} client connections for 4 clients`,
    );
    assert.equal(result.failed, 0, result.errors.slice(0, 3).join(' | '));
    assert.ok(result.ok > 100, `enough requests crossed the reloads (${result.ok})`);
    assert.equal(result.keepAliveConnections, 4, 'each client kept its one connection');
    const after = t.liveWorkerPids();
    assert.ok(
      after.every((p) => !before.has(p)),
      'every worker was replaced',
    );
    t.kill();
  });

  it('retries an idempotent request once when its worker dies; a POST with a body gets 502 JSON', async () => {
    const t = await startRouter(2, '--stats', `127.0.0.1:${await freePort()}`);
    const url = await t.url();
    // A GET in the worker that will be killed, and another request on the other worker.
    let mark = t.logs.length;
    const get = request(`${url}/slow?ms=1500`);
    const victim = await slowStarted(t, mark);
    const other = request(`${url}/slow?ms=100`);
    await slowStarted(t, mark, 2);
    process.kill(victim, 'SIGKILL');
    const retried = await get;
    assert.equal(retried.status, 200, retried.body);
    assert.notEqual((JSON.parse(retried.body) as Echo).pid, victim, 'answered by another worker');
    assert.equal((await other).status, 200);
    await t.waitForReady(
      1,
      t.logs.findIndex((l) => l.msg.includes('respawning')),
    );

    // Not idempotent, body sent: never repeated, the client gets a short JSON 502.
    mark = t.logs.length;
    const post = request(`${url}/slow?ms=1500`, { method: 'POST', body: 'x=1' });
    const victim2 = await slowStarted(t, mark);
    process.kill(victim2, 'SIGKILL');
    const failed = await post;
    assert.equal(failed.status, 502);
    assert.equal(failed.headers['content-type'], 'application/json');
    const body = JSON.parse(failed.body) as { error: string; upstream: string; code: string };
    assert.equal(body.error, 'bad gateway');
    assert.match(body.upstream, /^worker \d+$/);
    t.kill();
  });

  it('-w 1: requests wait for the respawn instead of failing', async () => {
    const t = await startRouter(1);
    const url = await t.url();
    const [victim] = t.liveWorkerPids();
    const mark = t.logs.length;
    process.kill(victim!, 'SIGKILL');
    const replies = await Promise.all(Array.from({ length: 5 }, () => request(`${url}/`)));
    for (const r of replies) assert.equal(r.status, 200, r.body);
    const pids = new Set(replies.map((r) => (JSON.parse(r.body) as Echo).pid));
    assert.ok(!pids.has(victim!), 'answered by the new worker');
    await t.waitForReady(1, mark);
    t.kill();
  });

  it('--sticky cookie keeps a client on one worker; --sticky ip maps an address to one worker', async () => {
    const t = await startRouter(3, '--sticky', 'cookie');
    const url = await t.url();
    const first = await request(`${url}/`);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    assert.match(cookie, /^tsgun_worker=\d+$/);
    const pid = (JSON.parse(first.body) as Echo).pid;
    for (let i = 0; i < 9; i++) {
      const r = await request(`${url}/`, { headers: { cookie: `a=b; ${cookie}` } });
      assert.equal((JSON.parse(r.body) as Echo).pid, pid);
      assert.equal(r.headers['set-cookie'], undefined, 'a valid cookie is not set again');
    }
    t.kill();

    const u = await startRouter(3, '--sticky', 'ip');
    const url2 = await u.url();
    const pids = new Set<number>();
    for (let i = 0; i < 6; i++) pids.add((await getJson<Echo>(`${url2}/`)).pid);
    assert.equal(pids.size, 1);
    u.kill();
  });

  it('proxies WebSocket upgrades to a worker', async () => {
    const t = new Tsgun([fixture('ws-app.mjs'), '-b', '127.0.0.1:0', '--router', '-w', '2']);
    await t.waitForReady(2);
    await t.waitForLog((l) => l.msg === 'router ready');
    const port = await t.port();
    const echoed = await webSocketHandshake(port, true);
    assert.match(echoed, /^HTTP\/1\.1 101 Switching Protocols/);
    assert.match(echoed, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    assert.match(echoed, /x-worker-pid: \d+/i);
    t.kill();
  });

  it('--worker-connections: the router never opens more; a full worker resumes on its private socket', async () => {
    const t = await startRouter(1, '--worker-connections', '2');
    const url = await t.url();
    // Three slow requests, two connections: the third waits in the router, then reuses one.
    const mark = t.logs.length;
    const replies = Promise.all([1, 2, 3].map(() => request(`${url}/slow?ms=300`)));
    await slowStarted(t, mark, 3);
    for (const r of await replies) assert.equal(r.status, 200);
    t.kill();

    // A WebSocket holds the only connection of -w 1 --worker-connections 1: the worker stops
    // accepting; when the WebSocket closes it must get its private socket back, not a public one.
    const u = new Tsgun([
      fixture('ws-app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--router',
      '--worker-connections',
      '1',
    ]);
    await u.waitForReady(1);
    await u.waitForLog((l) => l.msg === 'router ready');
    const port = await u.port();
    const { socket: ws } = await openWebSocket(port);
    const get = request(`http://127.0.0.1:${port}/`);
    ws.destroy();
    const reply = await get;
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as Echo).pid, u.liveWorkerPids()[0]);
    u.kill();
  });

  it('--route mounts an external upstream; dead gives 502, slow gives 504, both JSON', async () => {
    const legacy: Server = createServer((req, res) => res.end(`legacy saw ${req.url}`));
    const hang: Server = createServer(() => {}); // never answers
    await new Promise<void>((r) => legacy.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (s: Server) => (s.address() as { port: number }).port;
    const dead = await freePort();
    const t = await startRouter(
      1,
      '--route',
      `/legacy=http://127.0.0.1:${port(legacy)}`,
      '--route',
      `/dead=http://127.0.0.1:${dead}`,
      '--route',
      `/hang=http://127.0.0.1:${port(hang)}`,
      '--proxy-timeout',
      '0.5',
    );
    const url = await t.url();
    const mounted = await request(`${url}/legacy/a?b=1`);
    assert.equal(mounted.body, 'legacy saw /legacy/a?b=1');
    assert.equal(
      (await getJson<Echo>(`${url}/legacyish`)).url,
      '/legacyish',
      'prefix is a segment',
    );

    const refused = await request(`${url}/dead/x`);
    assert.equal(refused.status, 502);
    assert.deepEqual(JSON.parse(refused.body), {
      error: 'bad gateway',
      status: 502,
      upstream: 'route /dead',
      code: 'ECONNREFUSED',
    });
    const slow = await request(`${url}/hang/x`);
    assert.equal(slow.status, 504);
    assert.equal((JSON.parse(slow.body) as { error: string }).error, 'gateway timeout');
    t.kill();
    legacy.closeAllConnections();
    hang.closeAllConnections();
    legacy.close();
    hang.close();
  });

  it('survives garbage, clients that leave mid-request and over-long request lines', async () => {
    const t = await startRouter(1, '--limit-request-line', '100');
    const url = await t.url();
    const port = await t.port();
    const garbage = await rawRequest(port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(garbage.data, /^HTTP\/1\.1 400 /);
    // A client that disconnects while its request is in a worker.
    const mark = t.logs.length;
    const leaving = connect(port, '127.0.0.1', () =>
      leaving.write('GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    await slowStarted(t, mark);
    leaving.destroy();
    const long = await request(`${url}/${'a'.repeat(200)}`);
    assert.equal(long.status, 414, 'the workers limits apply behind the router');
    assert.equal((await request(`${url}/`)).status, 200);
    assert.ok(!t.logs.some((l) => l.msg.includes('router exited')), 'the router never crashed');
    t.kill();
  });

  it('respawns a router that dies; counts per upstream in stats and /metrics, across the restart', async () => {
    const statsPort = await freePort();
    const t = await startRouter(2, '--stats', `127.0.0.1:${statsPort}`);
    const url = await t.url();
    const stats = `http://127.0.0.1:${statsPort}`;
    type Doc = {
      router: { restarts: number; upstreams: { name: string; requests: number }[] } | null;
    };
    const total = (doc: Doc) => doc.router?.upstreams.reduce((n, u) => n + u.requests, 0) ?? 0;
    // Counters travel once a second from the router: wait for the report that has them.
    const statsWith = async (requests: number): Promise<Doc> => {
      const deadline = Date.now() + 5000;
      let doc = await getJson<Doc>(`${stats}/`);
      while (total(doc) < requests && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        doc = await getJson<Doc>(`${stats}/`);
      }
      return doc;
    };
    for (let i = 0; i < 10; i++) assert.equal((await request(`${url}/`)).status, 200);
    assert.equal(total(await statsWith(10)), 10);

    const first = routerPid(t);
    const mark = t.logs.length;
    process.kill(first, 'SIGKILL');
    await t.waitForLog((l) => l.msg === 'router ready', 10_000, mark);
    assert.notEqual(routerPid(t), first);
    // The new router starts from zero; the master keeps what the first one counted.
    assert.equal(total(await getJson<Doc>(`${stats}/`)), 10, 'no counter goes down');
    for (let i = 0; i < 10; i++) assert.equal((await request(`${url}/`)).status, 200);

    const doc = await statsWith(20);
    assert.equal(doc.router?.restarts, 1);
    assert.equal(doc.router?.upstreams.length, 2);
    assert.equal(total(doc), 20);
    const metrics = (await request(`${stats}/metrics`)).body;
    assert.match(
      metrics,
      /^tsgun_upstream_requests_total\{name="app",upstream="worker \d+"\} \d+$/m,
    );
    assert.match(metrics, /^tsgun_router_restarts_total\{name="app"\} 1$/m);
    t.kill();
  });

  it('kills a router whose event loop is blocked (--timeout) and starts a new one', async () => {
    const t = await startRouter(1, '--timeout', '1');
    const stuck = routerPid(t);
    const mark = t.logs.length;
    process.kill(stuck, 'SIGSTOP'); // no heartbeat from now on, as with a blocked loop
    await t.waitForLog((l) => l.msg.startsWith('ROUTER TIMEOUT'), 10_000, mark);
    await t.waitForLog((l) => l.msg === 'router ready', 10_000, mark);
    assert.notEqual(routerPid(t), stuck);
    assert.equal((await request(`${await t.url()}/`)).status, 200);
    t.kill();
  });

  it('TERM: the router finishes the requests it holds before the workers stop', async () => {
    const t = await startRouter(1);
    const url = await t.url();
    const mark = t.logs.length;
    const slow = request(`${url}/slow?ms=500`);
    await slowStarted(t, mark);
    t.signal('SIGTERM');
    const reply = await slow;
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.connection, 'close', 'a stopping router closes client connections');
    const dir = t.logs.find((l) => l['privateDir'])!['privateDir'] as string;
    assert.equal(statSync(dir).mode & 0o777, 0o700, 'only tsgun may reach the workers');
    const { code } = await t.exited;
    assert.equal(code, 0);
    assert.ok(!existsSync(dir), 'the private directory is removed on exit');
    const routerExit = t.logs.findIndex((l) => l.msg === 'router exited');
    const workerStop = t.logs.findIndex((l) => l.msg === 'worker stopping gracefully');
    assert.ok(routerExit >= 0 && routerExit < workerStop, 'workers stop after the router');
  });
});
