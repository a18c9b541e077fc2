import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort, getJson, rawRequest, request } from '../helpers/http.js';
import { killAll, startRouter } from '../helpers/tsgun.js';

/**
 * Whose fault it is: the router counts an upstream error, and retries a request, only for what
 * the upstream did; what a client does wrong is answered by the router and never blamed on a
 * worker (tsgun_upstream_errors_total), and a request that blocked its worker is not tried again.
 */

after(killAll);

interface UpstreamRow {
  name: string;
  requests: number;
  errors: number;
  retries: number;
}
type Doc = { router: { upstreams: UpstreamRow[] } | null };

/** Counters travel once a second from the router: the first report with `requests` sent. */
async function statsWith(stats: string, requests: number): Promise<UpstreamRow[]> {
  const total = (rows: UpstreamRow[]) => rows.reduce((n, u) => n + u.requests, 0);
  const deadline = Date.now() + 5000;
  let rows = (await getJson<Doc>(`${stats}/`)).router?.upstreams ?? [];
  while (total(rows) < requests && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    rows = (await getJson<Doc>(`${stats}/`)).router?.upstreams ?? [];
  }
  assert.ok(total(rows) >= requests, `the router reported ${total(rows)} request(s)`);
  return rows;
}

describe('router mode: whose fault', () => {
  it('a request that blocks its worker (--timeout 2) is not retried: one worker dies, the client gets 504, the other worker serves on', async () => {
    const t = await startRouter(2, '--timeout', '2');
    const url = await t.url();
    const before = t.liveWorkerPids();
    assert.equal(before.length, 2);
    const poisoned = await request(`${url}/hang`);
    // Answered once the master killed the worker it blocked; a retry would have blocked the
    // other worker too, and been answered only after that one's kill.
    assert.equal(poisoned.status, 504, poisoned.body);
    assert.equal((JSON.parse(poisoned.body) as { code: string }).code, 'WORKER_TIMEOUT');
    const hung = t.logs.filter((l) => l.msg === 'fixture: hanging');
    assert.equal(hung.length, 1, 'the request reached one worker only');
    assert.equal(t.logs.filter((l) => l.msg.startsWith('WORKER TIMEOUT')).length, 1);
    const other = before.find((pid) => pid !== hung[0]!.pid)!;
    assert.ok(t.liveWorkerPids().includes(other), 'the other worker still runs');
    const served = await request(`${url}/`);
    assert.equal(served.status, 200);
    assert.equal((JSON.parse(served.body) as { pid: number }).pid, other);
    t.kill();
  });

  it("a client's bad request or malformed body is never an upstream error; an upstream's failure is", async () => {
    const statsPort = await freePort();
    const deadPort = await freePort();
    const t = await startRouter(
      1,
      '--stats',
      `127.0.0.1:${statsPort}`,
      '--route',
      `/dead=http://127.0.0.1:${deadPort}`,
    );
    const port = await t.port();
    const url = await t.url();
    const H = 'Host: localhost\r\n';
    const twoHost = await rawRequest(port, `GET / HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`);
    assert.match(twoHost.data, /^HTTP\/1\.1 400 /);
    const star = await rawRequest(port, `OPTIONS * HTTP/1.1\r\n${H}\r\n`);
    assert.match(star.data, /^HTTP\/1\.1 400 /);
    // Sent on to the worker (1 request), then the body breaks its framing.
    const chunk = await rawRequest(
      port,
      `POST /echo HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\nzz\r\n`,
    );
    assert.match(chunk.data, /^HTTP\/1\.1 400 /);
    assert.equal((await request(`${url}/`)).status, 200);
    // The upstream's own failure: nothing listens behind --route /dead.
    assert.equal((await request(`${url}/dead/x`)).status, 502);

    const rows = await statsWith(`http://127.0.0.1:${statsPort}`, 3);
    const worker = rows.find((u) => u.name === 'worker 1');
    const dead = rows.find((u) => u.name === 'route /dead');
    assert.deepEqual(
      { requests: worker?.requests, errors: worker?.errors, retries: worker?.retries },
      { requests: 2, errors: 0, retries: 0 },
    );
    assert.equal(dead?.errors, 1, 'an upstream that fails is counted');
    assert.ok(
      !t.logs.some(
        (l) => String(l.msg).startsWith('upstream failed:') && l.upstream === 'worker 1',
      ),
    );
    t.kill();
  });
});
