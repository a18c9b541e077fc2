import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { freePort, getJson, request } from '../helpers/http.js';
import { fixture, killAll, runTsgun, startApp, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/**
 * Node's private behaviour is checked at start (src/platform/checks.ts): each check forced to
 * fail with the test-only switch shows its fallback serving correctly, or the refusal.
 */
const BREAK = 'TSGUN_TEST_BREAK_PLATFORM';
const broken = (names: string) => ({ env: { ...process.env, [BREAK]: names } });
const app = [fixture('app.mjs'), '-b', '127.0.0.1:0'];

/** Keep-alive clients, each after one answered request, left open. */
async function idleClients(url: string, n: number): Promise<Socket[]> {
  const { port } = new URL(url);
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i++) {
    const s = connect(Number(port), '127.0.0.1');
    sockets.push(s);
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(s, 'data');
  }
  return sockets;
}

describe('platform checks at start', () => {
  it('pass on this Node: no line says an assumption broke', async () => {
    const t = startApp('-w', '1', '--router');
    await t.waitForLog((l) => l.msg === 'router ready');
    await t.waitForReady(1);
    assert.equal((await request(`${await t.url()}/`)).status, 200);
    assert.ok(!t.logs.some((l) => /breaks an assumption|test-only/.test(String(l.msg))));
  });

  it("connection books broken: one line naming Node's version, then connections tracked by public events: counted, paused at --worker-connections, drained on TERM", async () => {
    const statsPort = await freePort();
    const t = new Tsgun(
      [
        ...app,
        '-w',
        '1',
        '--worker-connections',
        '3',
        '--keep-alive',
        '1',
        '--stats',
        `127.0.0.1:${statsPort}`,
      ],
      broken('books'),
    );
    await t.waitForReady(1);
    const line = t.logs.find((l) =>
      String(l.msg).includes("breaks an assumption of tsgun's (books)"),
    );
    assert.ok(line, 'the fallback is logged');
    assert.equal(line['node'], process.version);
    assert.match(String(line.msg), /public events/);
    const url = await t.url();
    const clients = await idleClients(url, 3);
    const stats = `http://127.0.0.1:${statsPort}/`;
    let counted = -1;
    for (const deadline = Date.now() + 10_000; counted !== 3 && Date.now() < deadline; ) {
      const doc = await getJson<{ worker: { connections: number }[] }>(stats);
      counted = doc.worker[0]?.connections ?? -1;
      if (counted !== 3) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(counted, 3, 'the stats count the three open connections');
    // Full: an idle keep-alive connection is closed to make room for a new one.
    const closed = Promise.race(clients.map((c) => once(c, 'close')));
    assert.equal((await request(`${url}/`)).status, 200);
    await closed;
    for (let i = 0; i < 20; i++) assert.equal((await request(`${url}/`)).status, 200);
    process.kill(t.pid, 'SIGTERM');
    assert.equal((await t.exited).code, 0);
    for (const c of clients) c.destroy();
  });

  it('connection books broken in router mode: the master checks once, the router and its workers take its fallback and serve', async () => {
    const t = new Tsgun([...app, '--router', '-w', '2', '--log-level', 'debug'], broken('books'));
    await t.waitForLog((l) => l.msg === 'router ready');
    await t.waitForReady(2);
    const fallbacks = t.logs.filter((l) => String(l.msg).includes('(books)'));
    assert.equal(fallbacks.length, 1, "the master's check, once for every child");
    const url = await t.url();
    for (let i = 0; i < 20; i++) assert.equal((await request(`${url}/`)).status, 200);
    const taken = t.logs.filter((l) => String(l.msg).includes("the master's platform check"));
    assert.deepEqual(
      taken.map((l) => l['role']).sort(),
      ['router', 'worker', 'worker'],
      'each child says it took the fallback',
    );
  });

  it('under node --pending-deprecation --throw-deprecation the checks pass and tsgun serves', async () => {
    const env = { ...process.env, NODE_OPTIONS: '--pending-deprecation --throw-deprecation' };
    const t = new Tsgun([...app, '-w', '1'], { env });
    await t.waitForReady(1);
    assert.equal((await request(`${await t.url()}/`)).status, 200);
    assert.ok(!t.logs.some((l) => /breaks an assumption/.test(String(l.msg))));
    process.kill(t.pid, 'SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it("IPC reads broken: one line, then a worker's lines reach Node's reader unbounded, as without tsgun's check", async () => {
    const t = new Tsgun(
      [fixture('forge-ipc.mjs'), '-b', '127.0.0.1:0', '-w', '1'],
      broken('ipc-read'),
    );
    await t.waitForReady(1);
    const line = t.logs.find((l) =>
      String(l.msg).includes("breaks an assumption of tsgun's (ipc-read)"),
    );
    assert.ok(line, 'the fallback is logged');
    assert.match(String(line.msg), /parsed whatever their size/);
    const mark = t.logs.length;
    assert.equal((await request(`${await t.url()}/forge/deep`)).status, 200);
    // Parsed by Node (100,000 levels): the type is an array, or the raw write split a line.
    await t.waitForLog(
      (l) => /unknown message type an array of 1|IPC channel is broken \(SyntaxError/.test(l.msg),
      15_000,
      mark,
    );
    assert.ok(!t.logs.some((l) => /nests more than/.test(String(l.msg))));
    assert.equal((await request(`${await t.url()}/`)).status, 200);
  });

  for (const [name, what] of [
    ['timeouts', "'listening' event starts its headersTimeout"],
    ['listen-fd', '_listen2 listens on an inherited fd'],
    ['bind', '_createServerHandle binds a socket without listening'],
  ] as const)
    it(`${name} broken: no public fallback, so tsgun refuses to start: TSGUN_ERR_PLATFORM, exit 6`, async () => {
      const { code, stderr } = await runTsgun([...app, '-w', '1'], broken(name));
      assert.equal(code, 6, stderr.slice(-1500));
      const last = stderr.trim().split('\n').at(-1) ?? '';
      assert.ok(last.includes(what) && last.includes(process.version), last);
      assert.ok(last.includes('TSGUN_ERR_PLATFORM'), last);
    });

  for (const name of ['bind', 'timeouts'])
    it(`--check-config runs the master's checks: ${name} broken is exit 6`, async () => {
      const { code, stderr } = await runTsgun([...app, '--check-config'], broken(name));
      assert.equal(code, 6, stderr);
      assert.match(stderr, /TSGUN_ERR_PLATFORM/);
      assert.doesNotMatch(stderr, /config OK/);
    });

  it('--check-config says when a check chose a public fallback, as a start would', async () => {
    const { code, stdout, stderr } = await runTsgun([...app, '--check-config'], broken('books'));
    assert.equal(code, 0, stderr);
    assert.match(stdout, /config OK/);
    assert.match(stderr, /tsgun: warning: Node v[\d.]+ breaks an assumption of tsgun's \(books\)/);
  });
});
