import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort, getJson, type Reply, request } from '../helpers/http.js';
import { fixture, killAll, plainLines, runTsgun, startRouter } from '../helpers/tsgun.js';

after(killAll);

interface Doc {
  router: {
    pid: number;
    queue: { waiting: number; highWater: number; shedLimit: number; shedTimeout: number };
  } | null;
}

describe('router request queue (--queue-limit, --queue-timeout, --readyz-queue)', () => {
  it('sheds with 503 + Retry-After when full or waited too long; counts; /readyz follows', async () => {
    const statsPort = await freePort();
    const stats = `http://127.0.0.1:${statsPort}`;
    // One worker with one connection: the second request on waits in the router's queue.
    const t = await startRouter(
      1,
      '--worker-connections',
      '1',
      '--queue-limit',
      '2',
      '--queue-timeout',
      '2',
      '--readyz-queue',
      '1',
      '--stats',
      `127.0.0.1:${statsPort}`,
    );
    const url = await t.url();
    const doc = () => getJson<Doc>(`${stats}/`);
    const readyz = async () => (await request(`${stats}/readyz`)).status;
    // The router reports once a second: poll for the report that says so (no event for it).
    const until = async (check: (d: Doc) => boolean): Promise<Doc> => {
      const deadline = Date.now() + 8000;
      let last = await doc();
      while (!check(last) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        last = await doc();
      }
      return last;
    };
    const routerPid = (await until((d) => d.router !== null && d.router.pid > 0)).router!.pid;
    assert.equal(await readyz(), 200);

    const mark = t.logs.length;
    const holder = request(`${url}/slow?ms=7000`);
    await t.waitForLog((l) => l.msg === 'fixture: slow request started', 10_000, mark);
    const started = Date.now();
    const waiters = [request(`${url}/slow?ms=1`), request(`${url}/slow?ms=1`)];
    const queued = await until((d) => d.router!.queue.waiting === 2);
    assert.equal(queued.router!.queue.waiting, 2, 'two requests wait');
    assert.equal(await readyz(), 503, '/readyz: more than --readyz-queue wait');

    // Full: the next request is answered at once, not after a client or proxy timeout.
    const before = Date.now();
    const full = await request(`${url}/`);
    assert.ok(Date.now() - before < 1000, 'answered at once');
    assert.equal(full.status, 503);
    assert.equal(full.headers['retry-after'], '2');
    assert.equal(JSON.parse(full.body).error, 'request queue full');

    // Waited --queue-timeout: 503 after about 2 s, while the holder still holds the worker.
    const late = await Promise.all(waiters);
    for (const r of late) {
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '2');
      assert.equal(JSON.parse(r.body).error, 'request queue timeout');
    }
    const waited = Date.now() - started;
    assert.ok(waited >= 1900 && waited < 6000, `shed after --queue-timeout (${waited} ms)`);

    const drained = await until(
      (d) => d.router!.queue.waiting === 0 && d.router!.queue.shedTimeout === 2,
    );
    assert.deepEqual(drained.router!.queue, {
      waiting: 0,
      highWater: 2,
      shedLimit: 1,
      shedTimeout: 2,
    });
    assert.equal(await readyz(), 200, '/readyz back to 200 once the queue drains');
    const metrics = (await request(`${stats}/metrics`)).body;
    assert.match(metrics, /^tsgun_router_shed_total\{name="app",reason="limit"\} 1$/m);
    assert.match(metrics, /^tsgun_router_shed_total\{name="app",reason="timeout"\} 2$/m);
    assert.match(metrics, /^tsgun_router_queue_waiting\{name="app"\} 0$/m);
    assert.match(metrics, /^tsgun_router_queue_high_water\{name="app"\} 2$/m);
    assert.equal((await holder).status, 200, 'the request in the worker is served');

    // A burst: every request is answered, served or shed, none hangs (request() gives up at 10 s).
    const burst = await Promise.all(
      Array.from({ length: 600 }, () =>
        request(`${url}/slow?ms=20`).catch(
          (e: Error): Reply => ({
            status: 0,
            headers: {},
            body: e.message,
          }),
        ),
      ),
    );
    const statuses = new Map<number, number>();
    for (const r of burst) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.deepEqual(
      [...statuses.keys()].filter((s) => s !== 200 && s !== 503),
      [],
      `only 200 and 503: ${JSON.stringify([...statuses])}`,
    );
    assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(503) ?? 0) > 0);
    const after = await until((d) => d.router!.queue.waiting === 0);
    assert.equal(after.router!.pid, routerPid, 'the router was never replaced');
    assert.equal(after.router!.queue.waiting, 0);
    t.kill();
  });
});

describe('queue settings: bad input', () => {
  for (const [flag, value] of [
    ['--queue-limit', '-1'],
    ['--queue-limit', 'lots'],
    ['--queue-timeout', '-2'],
    ['--queue-timeout', 'soon'],
    ['--readyz-queue', '1.5'],
  ] as const)
    it(`${flag} ${value}: one line naming the setting and the value, non-zero exit`, async () => {
      const r = await runTsgun([fixture('app.mjs'), '--router', `${flag}=${value}`]);
      assert.notEqual(r.code, 0);
      const lines = plainLines(r.stderr).filter((l) => l.includes(flag));
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0]!.includes(value), lines[0]);
      assert.match(r.stderr, /TSGUN_ERR_/);
    });
});
