import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, getJson, rawRequest, request, statsWith } from '../helpers/http.js';
import { fixture, inTerminal, killAll, plainLines, runTsgun, startApp } from '../helpers/tsgun.js';

after(killAll);

interface Doc {
  version: string;
  pid: number;
  workers: { target: number; current: number };
  counters: Record<string, number>;
  sockets: { address: string; queue: number | null; maxBacklog: number }[];
  worker: Record<string, number | string>[];
  requestDuration: { classes: Record<string, { count: number }> };
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
    const family = typed.has(m[1]!) ? m[1]! : m[1]!.replace(/_(bucket|sum|count)$/, '');
    assert.ok(typed.has(family), `sample before its TYPE: ${m[1]}`);
    if (typed.get(family) === 'counter') assert.match(m[1]!, /_total$/, 'counters end in _total');
    if (typed.get(family) === 'histogram' && m[1] !== family)
      assert.match(m[1]!, /_seconds_(bucket|sum|count)$/, 'histograms are in seconds');
    assert.doesNotMatch(m[2] ?? '', /\bpid=/, 'no pid label: series survive a reload');
    // Every sample carries --name first; the keys below leave it out (one name per server here).
    const labels = m[2] ?? '';
    assert.match(labels, /^\{name="[^"]*"[,}]/, `no name label first: ${JSON.stringify(line)}`);
    const rest = labels.replace(/^\{name="[^"]*",?/, '{').replace(/^\{\}$/, '');
    samples.set(`${m[1]}${rest}`, Number(m[3]));
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
    const doc = await statsWith<Doc>(
      `${stats}/`,
      (d) =>
        d.worker.reduce((a, w) => a + (w['requests'] as number), 0) >= 30 &&
        d.requestDuration.classes['2xx']!.count >= 30,
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
        'logLinesDropped',
      ]) {
        assert.equal(typeof w[key], 'number', key);
      }
      assert.ok((w['rssBytes'] as number) > 10 * 1024 * 1024);
    }
    assert.ok(doc.worker.reduce((a, w) => a + (w['bytesOut'] as number), 0) > 30 * 100);

    const metrics = await request(`${stats}/metrics`);
    assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const samples = checkPrometheus(metrics.body);
    assert.equal(samples.get('tsgun_workers{state="ready"}'), 2);
    assert.equal(samples.get(`tsgun_listen_queue_max{socket="${new URL(url).host}"}`), 100);
    // Workers are labelled by index (0 and 1), not pid; the counters and the histogram add up.
    assert.equal(
      (samples.get('tsgun_worker_requests_total{worker="0"}') ?? 0) +
        (samples.get('tsgun_worker_requests_total{worker="1"}') ?? 0),
      30,
    );
    assert.equal(samples.get('tsgun_http_request_duration_seconds_count{code="2xx"}'), 30);
    assert.equal(
      samples.get('tsgun_http_request_duration_seconds_bucket{code="2xx",le="+Inf"}'),
      30,
    );
    assert.ok(samples.get('process_start_time_seconds')! <= Date.now() / 1000);
    assert.equal(
      samples.get(`tsgun_build_info{version="${doc.version}",node="${process.version}"}`),
      1,
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
    // Below the table, the last events of /events (the dashboard's timeline).
    await top.waitFor(/events\s+[\s\S]*ready\s+worker ready \(pid \d+\)[\s\S]*\(q to quit\)/);
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
    const doc = await statsWith<Doc>(
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

/** The /metrics samples, checked against the exposition grammar. */
async function metricsOf(statsBase: string): Promise<Map<string, number>> {
  return checkPrometheus((await request(`${statsBase}/metrics`)).body);
}

/** Every counter and histogram sample of `before` is <= the same sample in `after`. */
function assertNoCounterWentDown(before: Map<string, number>, after: Map<string, number>) {
  for (const [key, value] of before) {
    if (!/_total[{ ]|_total$|_bucket\{|_count\{|_sum\{/.test(key)) continue;
    assert.ok(after.has(key), `series ${key} disappeared`);
    assert.ok(after.get(key)! >= value, `${key} went down: ${value} -> ${after.get(key)}`);
  }
}

describe('--stats counters across worker replacement', () => {
  it('never go down when workers are SIGKILLed or replaced by a HUP', async () => {
    const port = await freePort();
    const stats = `http://127.0.0.1:${port}`;
    const t = startApp('-w', '2', '--stats', `127.0.0.1:${port}`);
    await t.waitForReady(2);
    const url = await t.url();
    let sent = 0;
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) await request(`${url}/`);
      sent += n;
      // Every request reported, so a kill now loses nothing.
      await statsWith<Doc>(`${stats}/`, (d) => d.requestDuration.classes['2xx']!.count >= sent);
    };
    const total = (m: Map<string, number>) =>
      [...m]
        .filter(([k]) => k.startsWith('tsgun_worker_requests_total{'))
        .reduce((a, [, v]) => a + v, 0);
    await send(20);
    let before = await metricsOf(stats);
    assert.equal(total(before), 20);

    // SIGKILL one worker: its counts stay under its index, and its replacement adds to them.
    const victim = t.liveWorkerPids()[0]!;
    const mark = t.logs.length;
    process.kill(victim, 'SIGKILL');
    await t.waitForReady(1, mark);
    let after = await metricsOf(stats);
    assertNoCounterWentDown(before, after);
    assert.equal(total(after), 20);
    assert.equal(after.get('tsgun_http_request_duration_seconds_count{code="2xx"}'), 20);
    await send(10);
    before = after;
    after = await metricsOf(stats);
    assertNoCounterWentDown(before, after);
    assert.equal(total(after), 30);

    // HUP: every worker replaced, same labels, nothing lost.
    await t.reload();
    before = after;
    after = await metricsOf(stats);
    assertNoCounterWentDown(before, after);
    assert.equal(total(after), 30);
    assert.deepEqual(
      [...after.keys()].filter((k) => k.startsWith('tsgun_worker_requests_total{')).sort(),
      ['tsgun_worker_requests_total{worker="0"}', 'tsgun_worker_requests_total{worker="1"}'],
    );
    await send(5);
    assertNoCounterWentDown(after, await metricsOf(stats));
    t.kill();
  });
});

describe('--stats across a USR2 upgrade', () => {
  for (const kind of ['tcp', 'unix'] as const) {
    it(`the new master serves the ${kind} stats address once the old one has left`, async () => {
      const address =
        kind === 'tcp'
          ? `127.0.0.1:${await freePort()}`
          : `unix:${join(mkdtempSync(join(tmpdir(), 'tsgun-stats-')), 'stats.sock')}`;
      const get = (path: string) =>
        kind === 'tcp'
          ? request(`http://${address}${path}`)
          : request(`http://localhost${path}`, { socketPath: address.slice(5) });
      const t = startApp('--stats', address);
      await t.waitForReady(1);
      const newMaster = await t.upgrade(1);
      t.signal('SIGTERM');
      await t.exited;
      const reply = await get('/');
      assert.equal(reply.status, 200);
      assert.equal((JSON.parse(reply.body) as Doc).pid, newMaster);
      assert.equal((await get('/readyz')).status, 200);
      process.kill(newMaster, 'SIGKILL');
    });
  }
});

/**
 * A statsd server on a UDP socket of 127.0.0.1, a tsgun sending to it, `requests` requests; then
 * `check` reads the lines received so far, and `until` waits for more (bounded).
 */
async function withStatsd(
  args: readonly string[],
  requests: number,
  check: (lines: string[], until: (done: () => boolean) => Promise<void>) => Promise<void>,
): Promise<void> {
  const udp = createSocket('udp4');
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const received: string[] = [];
  udp.on('message', (m) => received.push(...m.toString().split('\n')));
  const t = startApp('--statsd-host', `127.0.0.1:${udp.address().port}`, ...args);
  try {
    await t.waitForReady(1);
    const url = await t.url();
    for (let i = 0; i < requests; i++) await request(`${url}/`);
    const deadline = Date.now() + 10_000;
    await check(received, async (done) => {
      while (!done() && Date.now() < deadline) await once(udp, 'message');
    });
  } finally {
    t.kill();
    udp.close();
  }
}

describe('--statsd-host', () => {
  it("sends Gunicorn's metric names over UDP", () =>
    withStatsd(['--statsd-prefix', 'myapp'], 5, async (received, until) => {
      const timers = () => received.filter((l) => l.startsWith('myapp.request.duration:'));
      // One timer per request, not one average per report.
      await until(
        () => timers().length >= 5 && received.some((l) => l.startsWith('myapp.workers')),
      );
      assert.ok(
        received.some((l) => /^myapp\.requests:\d+\|c$/.test(l)),
        received.join(' '),
      );
      assert.ok(received.some((l) => /^myapp\.request\.status\.200:\d+\|c$/.test(l)));
      assert.equal(timers().length, 5, received.join(' '));
      for (const l of timers()) assert.match(l, /^myapp\.request\.duration:[\d.]+\|ms$/);
      assert.ok(received.some((l) => /^myapp\.workers:1\|g$/.test(l)));
    }));
});

describe('--statsd-sample-rate', () => {
  it('marks each timer with its rate', () =>
    withStatsd(['--statsd-sample-rate', '0.5'], 40, async (received, until) => {
      const counted = () =>
        received
          .filter((l) => l.startsWith('tsgun.requests:'))
          .reduce((a, l) => a + Number(l.slice(15, -2)), 0);
      await until(() => counted() >= 40);
      assert.equal(counted(), 40, received.join(' '));
      const timers = received.filter((l) => l.startsWith('tsgun.request.duration:'));
      // 40 requests at 0.5: none and all are each 1 in 2^40.
      assert.ok(timers.length > 0 && timers.length < 40, `${timers.length} timers`);
      for (const l of timers) assert.match(l, /^tsgun\.request\.duration:[\d.]+\|ms\|@0\.5$/);
    }));

  it('refuses a rate outside (0, 1] with one line naming the setting', async () => {
    const r = await runTsgun(['app.mjs', '--statsd-sample-rate', '1.5']);
    assert.equal(r.code, 2);
    assert.match(plainLines(r.stderr)[0]!, /--statsd-sample-rate.*1\.5/);
  });
});
