import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { freePort, getJson, request } from '../helpers/http.js';
import { killWithQueuedConnections, listenQueue } from '../helpers/kernel.js';
import { fixture, killAll, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** tsgun running the app that calls listen() itself, in the LISTEN_FORM given. */
function startListening(form: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}) {
  return new Tsgun([fixture('listen-app.mjs'), '-b', '127.0.0.1:0', ...args], {
    env: { LISTEN_FORM: form, ...env },
  });
}

interface Seen {
  pid: number;
  address: { address: string; port: number } | null;
  listening: boolean;
  callbackRan: boolean;
  listeningEvents: number;
  index: string | null;
  instance: string | null;
  port: string | null;
  isWorker: boolean;
  clusterId: number | null;
}

describe('an app that calls listen() itself', () => {
  // port: listen(Number($PORT)); env: listen($PORT || 3000); options: listen({ port, host,
  // backlog: 10 }); host: listen(3000, '127.0.0.1'), a port tsgun did not bind; none: listen(cb);
  // late: listen() 300 ms after the module loaded; with top-level await: await-callback (the
  // callback as a promise), await-once (once(server, 'listening')), await-first (a slow start
  // awaited before listen()).
  const awaitsListen = ['await-callback', 'await-once'];
  for (const form of [
    'port',
    'env',
    'options',
    'host',
    'none',
    'late',
    'await-first',
    ...awaitsListen,
  ]) {
    it(`is served from the master's socket: listen form "${form}"`, async () => {
      const t = startListening(form, ['-w', '1', '--backlog', '1000']);
      const [ready] = await t.waitForReady(1);
      const port = await t.port();
      const seen = await getJson<Seen>(`http://127.0.0.1:${port}/`);
      assert.equal(seen.pid, ready!['workerPid'], 'answered by the worker');
      assert.deepEqual(
        [seen.address?.address, seen.address?.port],
        ['127.0.0.1', port],
        'server.address() is the real address',
      );
      assert.equal(seen.listening, true);
      assert.equal(seen.callbackRan, true, 'the listen callback ran');
      assert.equal(seen.listeningEvents, 1, "'listening' fired once");
      assert.equal(seen.port, String(port), 'PORT is the first bound port');
      assert.equal(seen.isWorker, true, 'cluster.isWorker in the app');
      assert.equal(typeof seen.clusterId, 'number', 'cluster.worker.id in the app');
      // Ready only once the app's listen completed: its callback logged before the ready line
      // (an app awaiting its listen() goes on once the worker serves, so after that line).
      const callback = t.logs.findIndex((l) => l.msg === 'fixture: listen callback');
      if (!awaitsListen.includes(form))
        assert.ok(
          callback >= 0 && callback < t.logs.indexOf(ready!),
          'ready before listen completed',
        );
      // The kernel has tsgun's --backlog, whatever the app asked for (10 in the options form).
      const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
      assert.equal(listenQueue(port).sendQ, Math.min(1000, somaxconn));
      if (form === 'host')
        await t.waitForLog((l) =>
          l.msg.startsWith('the app listens on port 3000; tsgun serves it'),
        );
      t.signal('SIGTERM');
      assert.equal((await t.exited).code, 0);
    });
  }

  it('an app written for cluster runs its worker branch and forks nothing of its own', async () => {
    const t = new Tsgun([fixture('cluster-app.cjs'), '-b', '127.0.0.1:0', '-w', '2']);
    await t.waitForReady(2);
    const seen = await getJson<{ pid: number; clusterId: number }>(await t.url());
    assert.ok(t.liveWorkerPids().includes(seen.pid), 'answered by a tsgun worker');
    assert.equal(typeof seen.clusterId, 'number');
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
    assert.ok(!t.logs.some((l) => l.msg === 'fixture: cluster primary forking'));
  });

  it("--wait-ready: PM2's process.send('ready') makes the worker ready", async () => {
    const t = startListening('pm2', ['-w', '1', '--wait-ready']);
    const [ready] = await t.waitForReady(1);
    const sent = t.logs.findIndex((l) => l.msg === 'fixture: sending ready');
    assert.ok(sent >= 0 && sent < t.logs.indexOf(ready!), 'ready before the app said so');
    assert.equal((await getJson<Seen>(await t.url())).pid, ready!['workerPid']);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('a module that exports a server it already listened on is served', async () => {
    const t = new Tsgun([fixture('listening.mjs'), '-b', '127.0.0.1:0', '-w', '1']);
    await t.waitForReady(1);
    assert.equal((await request(await t.url())).body, 'x');
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('SIGKILL of the only worker while connections are queued: the replacement serves all of them', async () => {
    const t = startListening('env', ['-w', '1', '--timeout', '0']);
    await killWithQueuedConnections(t);
    t.kill();
  });

  it('a second port tsgun did not bind (metrics) is held by one worker, never a crash loop with -w 2', async () => {
    const metricsPort = await freePort();
    const t = startListening('metrics', ['-w', '2'], { METRICS_PORT: String(metricsPort) });
    await t.waitForReady(2);
    await t.waitForLog((l) => l.msg === 'fixture: metrics listening');
    const warned = await t.waitForLog((l) =>
      /^127\.0\.0\.1:\d+ is in use \(worker [12] holds it\): the other workers serve without it and try again every second$/.test(
        l.msg,
      ),
    );
    assert.equal(warned.level, 40);
    assert.equal(warned['holder'], 'worker');
    assert.match((await request(`http://127.0.0.1:${metricsPort}/`)).body, /^metrics from \d+$/);
    assert.equal((await getJson<Seen>(await t.url())).listening, true);
    assert.equal(
      t.logs.filter((l) => l.msg === 'booting worker').length,
      2,
      'a worker was respawned',
    );
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('a port another process holds: one warning naming it, retries logged at most once a minute, the port taken once free', async () => {
    const metricsPort = await freePort();
    const foreign = createServer().listen(metricsPort, '127.0.0.1').unref();
    await once(foreign, 'listening');
    const t = startListening('metrics', ['-w', '1', '--log-level', 'debug'], {
      METRICS_PORT: String(metricsPort),
    });
    const address = `127.0.0.1:${metricsPort}`;
    const warned = await t.waitForLog((l) => l.msg.startsWith(`${address} is held`));
    assert.equal(
      warned.msg,
      `${address} is held by another process (not a tsgun worker): the app's listen() on it fails, the workers serve without it and try again every second (logged again at most once a minute)`,
    );
    assert.equal(warned.level, 40);
    await t.waitForReady(1);
    // The worker retries every second (each attempt at debug level); over several attempts
    // nothing more is logged about it above debug.
    await t.waitForLog(
      (l) => String(l.msg).endsWith(`on ${address} failed: in use`) && Number(l['failures']) >= 4,
    );
    const about = t.logs.filter((l) => String(l.msg).includes(address) && l.level > 20);
    assert.deepEqual(
      about.map((l) => l.msg).filter((m) => !String(m).startsWith('the app listens on')),
      [warned.msg],
    );
    foreign.close();
    const taken = await t.waitForLog((l) =>
      String(l.msg).startsWith(`the app listens on ${address} now`),
    );
    assert.ok(Number(taken['failures']) >= 3, `retried ${taken['failures']} times`);
    await t.waitForLog((l) => l.msg === 'fixture: metrics listening');
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it("the app's own server.close() in its SIGTERM handler runs, and the stop is clean", async () => {
    const t = startListening('env', ['-w', '1'], { CLOSE_ON_TERM: '1' });
    await t.waitForReady(1);
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg === 'fixture: closed on SIGTERM');
    await t.waitForLog((l) => l.msg === 'fixture: cleanup done');
    assert.equal((await t.exited).code, 0);
    assert.ok(!t.logs.some((l) => l.msg === 'worker did not stop in time, killing it'));
    assert.ok(!t.logs.some((l) => String(l.msg).startsWith('replacing worker')));
  });

  it('an app that closes its server is replaced by a worker that serves (nothing lost)', async () => {
    const t = startListening('env', ['-w', '1']);
    const [ready] = await t.waitForReady(1);
    const url = await t.url();
    assert.equal((await request(`${url}/close`)).body, 'closing');
    await t.waitForLog((l) => l.msg === 'fixture: server closed');
    await t.waitForLog((l) => l.msg === 'replacing worker: the app closed its server');
    const [next] = await t.waitForReady(1, t.logs.indexOf(ready!) + 1);
    assert.notEqual(next!['workerPid'], ready!['workerPid']);
    assert.equal((await getJson<Seen>(url)).pid, next!['workerPid']);
    await t.waitForLog((l) => l.msg === 'worker exited' && l['workerPid'] === ready!['workerPid']);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  const bad: [string, string[], RegExp, string][] = [
    [
      'twice on the same port',
      [],
      /listen\(\d+\) twice on the same address /,
      'TSGUN_ERR_APP_LISTEN',
    ],
    [
      'on a unix path',
      [],
      /on a unix socket path: bind it with --bind unix:/,
      'TSGUN_ERR_APP_LISTEN',
    ],
    [
      'never',
      // The worker gives up 0.5 s before the master would (2 s leaves only 0.2 s: a loaded machine
      // lost that race once).
      ['--ready-timeout', '5'],
      /exports nothing to serve and did not call listen\(\) in 4\.5 s /,
      'TSGUN_ERR_APP_NO_LISTEN',
    ],
    [
      'never, awaiting forever',
      ['--ready-timeout', '5'],
      /did not call listen\(\) within 4\.5 s \(the worker gives up just before --ready-timeout\) and its module is still loading/,
      'TSGUN_ERR_APP_NO_LISTEN',
    ],
  ];
  const forms: Record<string, string> = {
    'twice on the same port': 'twice',
    'on a unix path': 'unix',
    never: 'never',
    'never, awaiting forever': 'await-never',
  };
  for (const [name, args, message, code] of bad) {
    it(`listens ${name}: one line, exit 4`, async () => {
      const r = await runTsgun(
        [fixture('listen-app.mjs'), '-b', '127.0.0.1:0', '-w', '2', ...args],
        { env: { LISTEN_FORM: forms[name]! } },
      );
      assert.equal(r.code, 4, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      // The last line names the code; the message is in it, or in the worker's record above it.
      assert.ok(lines[0]!.endsWith(`[${code}]`), lines[0]);
      assert.match(r.stderr, message);
    });
  }
});

describe('--check-config on an app that awaits its listen()', () => {
  for (const form of ['await-callback', 'await-once', 'await-first']) {
    it(`says OK and exits: listen form "${form}"`, async () => {
      const r = await runTsgun(['--check-config', fixture('listen-app.mjs')], {
        env: { LISTEN_FORM: form },
      });
      assert.deepEqual([r.code, plainLines(r.stdout)], [0, ['tsgun: config OK']], r.stderr);
    });
  }
  it("says OK and exits: Fastify's own `await fastify.listen()` in an ES module", async () => {
    const r = await runTsgun(['--check-config', fixture('listen-forms/fastify-await.mjs')]);
    assert.deepEqual([r.code, plainLines(r.stdout)], [0, ['tsgun: config OK']], r.stderr);
  });
});

describe('a stable worker index', () => {
  /** index of each live worker, from the master's booting lines, checked against what the app sees. */
  async function indexes(t: Tsgun): Promise<Map<number, number>> {
    const byPid = new Map<number, number>();
    for (const l of t.logs)
      if (l.msg === 'booting worker')
        byPid.set(l['workerPid'] as number, l['workerIndex'] as number);
    const live = new Map<number, number>();
    for (const pid of t.liveWorkerPids()) live.set(pid, byPid.get(pid)!);
    return live;
  }

  it('0..w-1 in TSGUN_WORKER_INDEX and NODE_APP_INSTANCE; a replacement keeps the index, TTIN takes the lowest free', async () => {
    const t = startListening('env', ['-w', '2']);
    await t.waitForReady(2);
    const url = await t.url();
    const first = await indexes(t);
    assert.deepEqual([...first.values()].sort(), [0, 1]);
    // What the app sees is the index the master gave that pid.
    const seenPids = new Set<number>();
    for (let i = 0; i < 20 && seenPids.size < 2; i++) {
      const seen = await getJson<Seen>(url);
      seenPids.add(seen.pid);
      assert.equal(seen.index, String(first.get(seen.pid)));
      assert.equal(seen.instance, seen.index);
    }
    // A crash: the replacement takes the dead worker's index.
    const [victim, victimIndex] = [...first.entries()].find(([, i]) => i === 1)!;
    let mark = t.logs.length;
    process.kill(victim, 'SIGKILL');
    const [replacement] = await t.waitForReady(1, mark);
    assert.equal((await indexes(t)).get(replacement!['workerPid'] as number), victimIndex);
    // A reload: every new worker takes the index of the one it replaces.
    await t.reload();
    assert.deepEqual([...(await indexes(t)).values()].sort(), [0, 1]);
    // TTIN: a third worker, index 2.
    mark = t.logs.length;
    t.signal('SIGTTIN');
    const [third] = await t.waitForReady(1, mark);
    assert.equal((await indexes(t)).get(third!['workerPid'] as number), 2);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });
});
