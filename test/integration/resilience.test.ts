import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BACKOFF_CAP_MS } from '../../src/master/decisions/plan.js';
import { clientLoop, getJson, rawRequest } from '../helpers/http.js';
import { killWithQueuedConnections, waitForQueue } from '../helpers/kernel.js';
import { fixture, killAll, pollUntil, runTsgun, startApp, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** A keep-alive connection that got its first response and now sits idle in the worker. */
function openIdleConnection(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (/\r\n\r\n\{.*\}$/s.test(data)) resolve(socket);
    });
    socket.on('error', reject);
  });
}

const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

describe('the socket outlives every worker', () => {
  it('SIGKILL of the only worker while connections are queued: the replacement serves all of them', async () => {
    const t = startApp('-w', '1', '--timeout', '0');
    const oldPid = await killWithQueuedConnections(t);
    const crash = await t.waitForLog(
      (l) => l['workerPid'] === oldPid && String(l.msg).includes('SIGKILL'),
    );
    assert.match(crash.msg, /perhaps out of memory/);
    t.kill();
  });
});

describe('heartbeat', () => {
  it('kills a worker whose event loop is blocked past --timeout, logs its pid, and replaces it', async () => {
    const t = startApp('-w', '1', '--timeout', '1');
    const [ready] = await t.waitForReady(1);
    const url = await t.url();
    const oldPid = ready!['workerPid'] as number;
    await getJson(`${url}/block`);
    const timeout = await t.waitForLog((l) => String(l.msg).startsWith('WORKER TIMEOUT'));
    assert.equal(timeout.level, 50);
    assert.equal(timeout['workerPid'], oldPid);
    assert.match(timeout.msg, new RegExp(`pid:${oldPid}`));
    const mark = t.logs.indexOf(timeout);
    await t.waitForReady(1, mark);
    assert.notEqual((await getJson<{ pid: number }>(url)).pid, oldPid);
    t.kill();
  });
});

describe('recycling and limits', () => {
  it('--max-requests replaces workers gracefully, with no failed request', async () => {
    const t = startApp('-w', '1', '--max-requests', '10');
    await t.waitForReady(1);
    const url = await t.url();
    // The retiring worker serves until its replacement accepts, so keep asking (bounded) until
    // three generations have answered; getJson throws on any failed request.
    const pids = new Set<number>();
    const deadline = Date.now() + 15_000;
    while (pids.size < 3 && Date.now() < deadline)
      pids.add((await getJson<{ pid: number }>(url)).pid);
    assert.ok(pids.size >= 3, `only ${pids.size} worker(s) answered in 15 s`);
    assert.ok(
      t.logs.some((l) => String(l.msg).startsWith('replacing worker: reached --max-requests')),
    );
    t.kill();
  });

  it('--worker-connections: a worker whose every connection is in a request leaves new ones in the queue', async () => {
    const t = startApp('-w', '1', '--worker-connections', '2', '--keep-alive', '30');
    await t.waitForReady(1);
    const port = await t.port();
    // One at a time, so that each request is in the app before the next connection comes.
    const slow = 'GET /slow?ms=1500 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    const held = [];
    for (const n of [1, 2]) {
      let started = 0;
      const inApp = t.waitForLog(
        (l) => l.msg === 'fixture: slow request started' && ++started === n,
      );
      held.push(rawRequest(port, slow));
      await inApp;
    }
    const next = rawRequest(port, GET);
    // Node's own maxConnections would accept and close it; tsgun leaves it queued in the kernel.
    await waitForQueue(port, 1);
    const r = await next;
    assert.equal(r.error, null);
    assert.match(r.data, /^HTTP\/1\.1 200/);
    for (const h of await Promise.all(held)) assert.match(h.data, /^HTTP\/1\.1 200/);
    t.kill();
  });

  it('--worker-connections: an idle keep-alive connection gives its slot to a new client', async () => {
    const t = startApp('-w', '1', '--worker-connections', '2', '--keep-alive', '30');
    await t.waitForReady(1);
    const port = await t.port();
    const held = [await openIdleConnection(port), await openIdleConnection(port)];
    const closed = new Promise<void>((resolve) => held[0]!.once('close', () => resolve()));
    const r = await rawRequest(port, GET);
    assert.equal(r.error, null);
    assert.match(r.data, /^HTTP\/1\.1 200/);
    // The least recently used one (nginx's rule) was closed to make room.
    await closed;
    assert.equal(held[1]!.destroyed, false);
    held[1]!.destroy();
    t.kill();
  });
});

describe('reload safety', () => {
  it('a HUP whose new code does not load keeps the old workers serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const app = join(dir, 'app.mjs');
    copyFileSync(fixture('app.mjs'), app);
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2']);
    await t.waitForReady(2);
    const url = await t.url();
    const before = t.liveWorkerPids().sort();
    writeFileSync(app, 'export default function (req, res) {\n  res.end(\n}\n');
    const mark = t.logs.length;
    t.signal('SIGHUP');
    const error = await t.waitForLog(
      (l) => String(l.msg).includes('keeping 2 serving worker(s)'),
      10_000,
      mark,
    );
    assert.equal(error.level, 50);
    assert.deepEqual(t.liveWorkerPids().sort(), before);
    const pid = (await getJson<{ pid: number }>(url)).pid;
    assert.ok(before.includes(pid));
    t.kill();
  });

  it('after a failed reload, workers that die are retried under the backoff and come back once the file is fixed, with no HUP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const app = join(dir, 'app.mjs');
    const pidfile = join(dir, 'tsgun.pid');
    copyFileSync(fixture('app.mjs'), app);
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2', '-p', pidfile]);
    await t.waitForReady(2);
    const url = await t.url();
    const old = t.liveWorkerPids();
    writeFileSync(app, 'export default function (req, res) {\n  res.end(\n}\n');
    await t.signalAndWait('SIGHUP', (l) => String(l.msg).includes('keeping 2 serving worker(s)'));
    // Both old workers die (OOM, a crash): the master must work back to 2 from the file on disk.
    const killed = t.logs.length;
    for (const pid of old) process.kill(pid, 'SIGKILL');
    const failed =
      /; 0 of 2 worker\(s\) serving, retrying in [\d.]+ m?s \((\d+) failed boot\(s\) in a row\)$/;
    const third = await t.waitForLog(
      (l) => failed.exec(String(l.msg))?.[1] === '3',
      10_000,
      killed,
    );
    assert.equal(third.level, 50);
    assert.equal(typeof third['nextAttemptAt'], 'string');
    const status = await runTsgun(['status', '-p', pidfile]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout.split('\n')[0]!,
      /workers [01]\/2 {2}respawning (now|in \d+ s) after \d+ failed boot\(s\)$/,
    );
    // The file is fixed: within the backoff cap both workers are back, no HUP sent.
    const fixed = t.logs.length;
    copyFileSync(fixture('app.mjs'), app);
    await t.waitForReady(2, fixed, BACKOFF_CAP_MS + 5000);
    const pid = (await getJson<{ pid: number }>(url)).pid;
    assert.ok(!old.includes(pid));
    assert.ok(
      !t.logs.some((l) => l.msg === 'handling signal SIGHUP' && t.logs.indexOf(l) > killed),
    );
    // Every respawn or retry the log announced was followed by a fork.
    const lines = t.logs.slice(killed).filter((l) => l.role === 'master');
    lines.forEach((l, i) => {
      if (/respawning|retrying in/.test(String(l.msg)))
        assert.ok(
          lines.slice(i + 1).some((n) => n.msg === 'booting worker'),
          `announced, never forked: ${l.msg}`,
        );
    });
    t.kill();
  });
});

describe('reload storms', () => {
  it('50 HUPs in 3 s under load: not one request fails, and the last reload completes', async () => {
    const t = startApp('-w', '2');
    await t.waitForReady(2);
    const load = clientLoop(await t.url(), { concurrency: 4 });
    // Paced, not awaited: the point is HUPs arriving while earlier reloads are under way.
    for (let i = 0; i < 50; i++) {
      t.signal('SIGHUP');
      await new Promise((r) => setTimeout(r, 60));
    }
    const generations = () =>
      t.logs.filter((l) => l.msg.startsWith('reloading:')).map((l) => Number(l['generation']));
    const completed = (g: number) =>
      t.logs.some((l) => l.msg === 'reload complete' && Number(l['generation']) === g);
    assert.ok(
      await pollUntil(() => {
        const g = generations();
        return g.length > 0 && completed(Math.max(...g));
      }, 60_000),
      'the last reload completed',
    );
    const stats = await load.stop();
    assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join(', ')}`);
    assert.ok(stats.ok > 100, `too few requests to mean anything: ${stats.ok}`);
    assert.ok(generations().length >= 5, `only ${generations().length} reloads handled`);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });
});
