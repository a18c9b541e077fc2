import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, request, waitFor200 } from '../helpers/http.js';
import { fixture, killAll, Tsgun, waitForFile } from '../helpers/tsgun.js';

/**
 * tsgun's stdout and stderr are pipes whose reader stopped reading (the test never reads them):
 * the access log and the app's captured output must neither grow a worker without bound nor
 * stall it, its stop, or the master (src/log/bounded-destination.ts).
 */

after(killAll);

const scratch = mkdtempSync(join(tmpdir(), 'tsgun-pipes-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const MIB = 1024 * 1024;

function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** `total` GETs of `path`, `concurrency` keep-alive connections at a time; resolves with a pid. */
async function hammer(url: string, path: string, total: number, concurrency = 8): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let sent = 0;
  let pid = 0;
  const loop = async () => {
    while (sent < total) {
      sent++;
      const reply = await request(`${url}${path}`, { agent });
      assert.equal(reply.status, 200);
      pid = (JSON.parse(reply.body) as { pid: number }).pid;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
  }
  return pid;
}

/** TERM: tsgun exits cleanly within the graceful timeout (10 s), whatever its logs hold. */
async function assertStopsInTime(t: Tsgun): Promise<void> {
  const started = Date.now();
  t.signal('SIGTERM');
  const { code } = await t.exited;
  const ms = Date.now() - started;
  assert.equal(code, 0);
  assert.ok(ms < 10_000, `stopped after ${ms} ms`);
}

/** One worker, stdout and stderr never read, a graceful timeout the tests stop well within. */
function unreadTsgun(app: string, bind: string, ...args: string[]): Tsgun {
  const common = ['-w', '1', '--graceful-timeout', '10'];
  return new Tsgun([fixture(app), '-b', bind, ...common, ...args], { unread: true });
}

/** tsgun on a free port, ready once it answers: its log is the pipe nobody reads. */
async function startLoud(...args: string[]): Promise<{ t: Tsgun; url: string }> {
  const port = await freePort();
  const t = unreadTsgun('loud.mjs', `127.0.0.1:${port}`, ...args);
  const url = `http://127.0.0.1:${port}`;
  await waitFor200(url);
  return { t, url };
}

describe('a log whose reader stopped reading (a full pipe)', () => {
  it('the access log on stdout: the worker stays bounded, drops are counted and said, TERM stops it in time', async () => {
    const errors = join(scratch, 'access-error.log');
    const t = unreadTsgun(
      'app.mjs',
      '127.0.0.1:0',
      '--access-logfile',
      '-',
      '--error-logfile',
      errors,
      // Node's own limit (16 KiB of head): long URLs make long access-log lines.
      '--limit-request-line',
      '0',
    );
    const boot = await waitForFile(errors, (s) => s.includes('"worker ready"'));
    const url = /"listening at: (\S+) /.exec(boot)?.[1] ?? '';
    const pid = await hammer(url, '/', 1, 1);
    const before = rssBytes(pid);
    // Lines of ~16 KiB (the URL): what an unbounded buffer keeps is far above the bound below.
    const requests = 12_000;
    assert.equal(await hammer(url, `/${'a'.repeat(16_000)}`, requests), pid);
    const grown = rssBytes(pid) - before;
    // Stopped with the buffer full: the flush at exit gives up rather than wait for the reader.
    await assertStopsInTime(t);
    const end = readFileSync(errors, 'utf8');
    assert.doesNotMatch(end, /did not stop in time/);
    // The lines alone are ~190 MiB; the bound is 4 MiB, and serving the requests costs some heap.
    assert.ok(grown < 120 * MIB, `the worker grew by ${Math.round(grown / MIB)} MiB`);
    assert.match(end, /access log -: dropped \d+ lines, its reader is not taking them/);
    assert.match(
      end,
      new RegExp(`"workerPid":${pid},"code":0,"signal":null,"msg":"worker exited"`),
    );
  });

  it("--capture-output to a stderr nobody reads: the app's lines never stall the worker or the master", async () => {
    const { t, url } = await startLoud('--capture-output');
    // 32 MiB of the app's lines into a pipe that holds far less: each request still answered.
    const first = await hammer(url, '/?kb=16', 2000);
    const before = rssBytes(first);
    await hammer(url, '/?kb=16', 2000);
    const grown = rssBytes(first) - before;
    assert.ok(grown < 24 * MIB, `the worker grew by ${Math.round(grown / MIB)} MiB`);

    await assertReplaced(url, first);

    await assertStopsInTime(t);
  });

  it("the master's stderr full (the app wrote to it): the master still replaces a worker and stops", async () => {
    const { t, url } = await startLoud();
    // Twice: this process's end of the pipe reads a first chunk of what arrives (then no more).
    await hammer(url, '/fill', 1, 1);
    const pid = await hammer(url, '/fill', 1, 1);
    await assertReplaced(url, pid);

    await assertStopsInTime(t);
  });
});

/**
 * Kill the worker: the master logs its end and starts another, into a full pipe. Polled: the
 * master's log is the pipe nobody reads, so no line says when.
 */
async function assertReplaced(url: string, pid: number): Promise<void> {
  process.kill(pid, 'SIGKILL');
  let next = pid;
  const deadline = Date.now() + 10_000;
  while (next === pid && Date.now() < deadline) {
    try {
      next = (JSON.parse((await request(`${url}/?kb=1`)).body) as { pid: number }).pid;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  assert.notEqual(next, pid, 'the master started no new worker');
}
