import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { clientLoop, freePort, getJson, request } from '../helpers/http.js';
import { killAll, startApp, type Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** tsgun --router --router-processes N; resolves once every router routes to `workers` workers. */
async function startRouters(routers: number, workers: number, ...args: string[]) {
  const t = startApp(
    '--router',
    '--router-processes',
    String(routers),
    '-w',
    String(workers),
    ...args,
  );
  await t.waitForReady(workers);
  let seen = 0;
  await t.waitForLog(
    (l) => l.role === 'router' && l.msg === `routing to ${workers} worker(s)` && ++seen === routers,
  );
  let accepting = 0;
  await t.waitForLog(
    (l) => l.role === 'router' && l.msg === 'router accepting' && ++accepting === routers,
  );
  return t;
}

const routerPids = (t: Tsgun) =>
  new Set(t.logs.filter((l) => l.msg === 'booting router').map((l) => l['routerPid'] as number));

describe('--router-processes', () => {
  it('2 routers: 10 HUPs under keep-alive load lose nothing; a killed router is respawned', async () => {
    const statsPort = await freePort();
    const t = await startRouters(2, 2, '--stats', `127.0.0.1:${statsPort}`);
    const url = await t.url();
    const pids = [...routerPids(t)];
    assert.equal(pids.length, 2, 'two router processes');
    const load = clientLoop(`${url}/`, { concurrency: 4, keepAlive: 'yes' });
    for (let i = 0; i < 10; i++) await t.reload(20_000);
    const result = await load.stop();
    assert.equal(result.failed, 0, result.errors.slice(0, 3).join(' | '));
    assert.ok(result.ok > 50, `enough requests crossed the reloads (${result.ok})`);

    const mark = t.logs.length;
    process.kill(pids[0]!, 'SIGKILL');
    await t.waitForLog((l) => l.msg === 'router ready', 10_000, mark);
    assert.equal(routerPids(t).size, 3, 'a new router replaced the killed one');
    for (let i = 0; i < 10; i++) assert.equal((await request(`${url}/`)).status, 200);
    const doc = await getJson<{ router: { restarts: number } | null }>(
      `http://127.0.0.1:${statsPort}/`,
    );
    assert.equal(doc.router?.restarts, 1, 'stats add up the routers');
    t.kill();
  });

  it('--sticky cookie and ip give the same worker whichever router accepts', async () => {
    const t = await startRouters(2, 3, '--sticky', 'cookie');
    const url = await t.url();
    const first = await request(`${url}/`);
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    const pid = (JSON.parse(first.body) as { pid: number }).pid;
    // Every request is a new connection: the kernel spreads them over both routers.
    for (let i = 0; i < 20; i++) {
      const r = await request(`${url}/`, { headers: { cookie } });
      assert.equal((JSON.parse(r.body) as { pid: number }).pid, pid);
    }
    t.kill();

    const u = await startRouters(2, 3, '--sticky', 'ip');
    const url2 = await u.url();
    const pids = new Set<number>();
    for (let i = 0; i < 20; i++)
      pids.add((JSON.parse((await request(`${url2}/`)).body) as { pid: number }).pid);
    assert.equal(pids.size, 1, 'one client address, one worker');
    u.kill();
  });

  it('WINCH stops the routers before the workers (nothing accepts for no worker); HUP starts both again', async () => {
    const t = await startRouters(2, 2);
    const url = await t.url();
    let mark = t.logs.length;
    t.signal('SIGWINCH');
    let exited = 0;
    await t.waitForLog((l) => l.msg === 'worker exited' && ++exited === 2, 15_000, mark);
    const after = t.logs.slice(mark);
    const routersOut = after.flatMap((l, i) => (l.msg === 'router exited' ? [i] : []));
    const workersOut = after.flatMap((l, i) => (l.msg === 'worker exited' ? [i] : []));
    assert.equal(routersOut.length, 2, 'both routers stopped');
    assert.ok(Math.max(...routersOut) < Math.min(...workersOut), 'the routers went first');

    mark = t.logs.length;
    t.signal('SIGHUP');
    await t.waitForReady(2, mark);
    let ready = 0;
    await t.waitForLog((l) => l.msg === 'router ready' && ++ready === 2, 15_000, mark);
    assert.equal((await request(`${url}/`)).status, 200);
    t.kill();
  });
});
