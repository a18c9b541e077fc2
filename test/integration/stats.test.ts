import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, getJson, rawRequest, request } from '../helpers/http.js';
import { fixture, inTerminal, killAll, plainLines, runTsgun, startApp } from '../helpers/tsgun.js';

after(killAll);

/** Waits for the master's stats tick to have the workers' first reports. */
async function statsWith(statsUrl: string, predicate: (doc: Doc) => boolean): Promise<Doc> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const doc = await getJson<Doc>(statsUrl);
    if (predicate(doc)) return doc;
    if (Date.now() > deadline) throw new Error(`stats never matched: ${JSON.stringify(doc)}`);
    // Workers report once a second and nothing logs it: poll the stats server, bounded above.
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Doc {
  version: string;
  pid: number;
  workers: { target: number; current: number };
  counters: Record<string, number>;
  sockets: { address: string; queue: number | null; maxBacklog: number }[];
  worker: Record<string, number | string>[];
}

/** Every line of a Prometheus text exposition, checked against the format's grammar. */
function checkPrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Map<string, string>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const label = `${'[a-zA-Z_][a-zA-Z0-9_]*'}="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
  const sample = new RegExp(
    `^(${name})(\\{(?:${label}(?:,${label})*)?\\})? (-?[0-9.e+]+|NaN|[+-]Inf)$`,
  );
  assert.ok(text.endsWith('\n'), 'exposition must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP (\S+) .+$/.exec(line);
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help) continue;
    if (type) {
      assert.ok(!typed.has(type[1]!), `TYPE twice for ${type[1]}`);
      typed.set(type[1]!, type[2]!);
      continue;
    }
    const m = sample.exec(line);
    assert.ok(m, `not a valid sample line: ${JSON.stringify(line)}`);
    assert.ok(typed.has(m[1]!), `sample before its TYPE: ${m[1]}`);
    if (typed.get(m[1]!) === 'counter') assert.match(m[1]!, /_total$/, 'counters end in _total');
    samples.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return samples;
}

describe('--stats', () => {
  it('serves JSON, Prometheus metrics, /healthz and /readyz with per-worker counters', async () => {
    const port = await freePort();
    const t = startApp('-w', '2', '--stats', `127.0.0.1:${port}`, '--backlog', '100');
    await t.waitForReady(2);
    const url = await t.url();
    for (let i = 0; i < 30; i++) await request(`${url}/`);
    const stats = `http://127.0.0.1:${port}`;
    const doc = await statsWith(
      `${stats}/`,
      (d) => d.worker.reduce((a, w) => a + (w['requests'] as number), 0) >= 30,
    );
    assert.equal(doc.pid, t.pid);
    assert.deepEqual(doc.workers, { target: 2, current: 2 });
    assert.equal(doc.counters['spawned'], 2);
    assert.equal(doc.sockets[0]!.address, new URL(url).host);
    assert.equal(doc.sockets[0]!.maxBacklog, 100);
    assert.equal(doc.sockets[0]!.queue, 0);
    for (const w of doc.worker) {
      assert.equal(w['state'], 'ready');
      for (const key of [
        'requests',
        'requestsPerSec',
        'inflight',
        'connections',
        'bytesOut',
        'avgResponseMs',
        'status5xx',
        'rssBytes',
        'heapUsedBytes',
        'loopLagP99Ms',
      ]) {
        assert.equal(typeof w[key], 'number', key);
      }
      assert.ok((w['rssBytes'] as number) > 10 * 1024 * 1024);
    }
    assert.ok(doc.worker.reduce((a, w) => a + (w['bytesOut'] as number), 0) > 30 * 100);

    const metrics = await request(`${stats}/metrics`);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const samples = checkPrometheus(metrics.body);
    assert.equal(samples.get('tsgun_workers{name="app",state="ready"}'), 2);
    assert.equal(
      samples.get(`tsgun_listen_queue_max{name="app",socket="${new URL(url).host}"}`),
      100,
    );
    assert.ok(
      [...samples.keys()].some((k) =>
        k.startsWith('tsgun_worker_requests_total{name="app",worker="1"'),
      ),
    );

    assert.equal((await request(`${stats}/healthz`)).status, 200);
    assert.equal((await request(`${stats}/readyz`)).status, 200);
    assert.equal((await request(`${stats}/nope`)).status, 404);

    const cli = await runTsgun(['stats', `127.0.0.1:${port}`]);
    assert.equal(cli.code, 0);
    assert.match(cli.stdout, new RegExp(`^tsgun \\S+  master ${t.pid}  up \\d+s  workers 2/2`));
    assert.match(cli.stdout, /listen queue 0\/100/);
    assert.equal(cli.stdout.trim().split('\n').length, 5); // header, socket, column titles, 2 workers
    const json = await runTsgun(['stats', `127.0.0.1:${port}`, '--json']);
    assert.equal((JSON.parse(json.stdout) as Doc).pid, t.pid);

    // top draws in a terminal (without one it refuses): a pseudo-terminal, and q quits.
    const top = inTerminal(['top', `http://127.0.0.1:${port}`]);
    await top.waitFor(/master \d+[\s\S]*\(q to quit\)/);
    top.child.stdin!.write('q');
    const [code] = (await once(top.child, 'exit')) as [number];
    assert.equal(code, 0);
    t.kill();
  });

  it('shows a filling listen queue and warns when it is full', async () => {
    const port = await freePort();
    const t = startApp(
      '-w',
      '1',
      '--stats',
      `127.0.0.1:${port}`,
      '--backlog',
      '4',
      '--timeout',
      '0',
    );
    await t.waitForReady(1);
    const appPort = await t.port();
    // Block the only worker, then queue more connections than the backlog holds.
    await getJson(`http://127.0.0.1:${appPort}/block`);
    await t.waitForLog((l) => l.msg === 'fixture: blocking');
    const pending = Array.from({ length: 8 }, () =>
      rawRequest(appPort, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    );
    const warning = await t.waitForLog((l) => l.msg.startsWith('listen queue full'), 10_000);
    assert.equal(warning.level, 40);
    const doc = await statsWith(
      `http://127.0.0.1:${port}/`,
      (d) => (d.sockets[0]!.queue ?? 0) >= 4,
    );
    assert.ok(doc.counters['listenQueueFull']! >= 1);
    t.kill();
    for (const p of pending) void p.then(({ socket }) => socket.destroy());
  });

  it('refuses a non-loopback stats address without --stats-allow-remote', async () => {
    const r = await runTsgun(['app.mjs', '--stats', '0.0.0.0:9191']);
    assert.equal(r.code, 2);
    assert.match(
      plainLines(r.stderr)[0]!,
      /--stats: 0\.0\.0\.0 is not a loopback address; add --stats-allow-remote/,
    );
  });

  it('--stats unix:PATH refuses the live socket of another instance, which keeps serving', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tsgun-stats-')), 'stats.sock');
    const first = startApp('--stats', `unix:${path}`);
    await first.waitForReady(1);
    const second = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--stats',
      `unix:${path}`,
    ]);
    assert.equal(second.code, 2);
    assert.deepEqual(plainLines(second.stderr), [
      `tsgun: error: --stats: address already in use: unix:${path} [TSGUN_ERR_BIND]`,
    ]);
    // Refused before binding or forking anything.
    assert.doesNotMatch(second.stderr, /listening at|booting worker/);
    const reply = await request('http://localhost/healthz', { socketPath: path });
    assert.equal(reply.status, 200);
    first.kill();
  });

  it('/readyz turns 503 as soon as a graceful stop starts', async () => {
    const port = await freePort();
    const t = startApp('--stats', `127.0.0.1:${port}`);
    await t.waitForReady(1);
    const url = await t.url();
    const slow = request(`${url}/slow?ms=1500`);
    await t.waitForLog((l) => l.msg === 'fixture: slow request started');
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg === 'stopping gracefully');
    assert.equal((await request(`http://127.0.0.1:${port}/readyz`)).status, 503);
    assert.equal((await slow).status, 200);
  });
});

describe('--statsd-host', () => {
  it("sends Gunicorn's metric names over UDP", async () => {
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const received: string[] = [];
    udp.on('message', (m) => received.push(...m.toString().split('\n')));
    const t = startApp(
      '--statsd-host',
      `127.0.0.1:${udp.address().port}`,
      '--statsd-prefix',
      'myapp',
    );
    try {
      await t.waitForReady(1);
      const url = await t.url();
      for (let i = 0; i < 5; i++) await request(`${url}/`);
      const deadline = Date.now() + 10_000;
      while (!received.some((l) => l.startsWith('myapp.requests:')) && Date.now() < deadline)
        await once(udp, 'message');
      assert.ok(
        received.some((l) => /^myapp\.requests:\d+\|c$/.test(l)),
        received.join(' '),
      );
      assert.ok(received.some((l) => /^myapp\.request\.status\.200:\d+\|c$/.test(l)));
      assert.ok(received.some((l) => /^myapp\.request\.duration:[\d.]+\|ms$/.test(l)));
      assert.ok(received.some((l) => /^myapp\.workers:1\|g$/.test(l)));
    } finally {
      t.kill();
      udp.close();
    }
  });
});
