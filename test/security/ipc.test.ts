import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import {
  fixture,
  isAlive,
  killAll,
  killGroup,
  nobodySkip,
  pollUntil,
  runTsgun,
  Tsgun,
  waitForFile,
} from '../helpers/tsgun.js';

/**
 * Issue 27: everything a worker sends the master is untrusted input. A `--user nobody` worker
 * (test/fixtures/forge-ipc.mjs) forges messages of tsgun's own protocol: wrong types, huge
 * arrays, deep nesting, unknown types, bytes that are not JSON, floods. Throughout, the master
 * keeps serving HTTP and answers a status request on its control socket within a second, and an
 * app job can never replace the operator's --cron entry. Direct and router mode.
 */

after(killAll);

/** A status request on the control socket: how long the master took to answer, in ms. */
function statusMs(ctl: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(ctl);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('{"tsgun":1,"cmd":"status"}\n'));
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      socket.destroy();
      const answer = JSON.parse(text) as { ok: boolean };
      if (!answer.ok) reject(new Error(text));
      else resolve(performance.now() - started);
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no status answer in 5 s')));
  });
}

for (const mode of ['direct', 'router'] as const) {
  if (process.env['IPC_MODE'] && process.env['IPC_MODE'] !== mode) continue;
  describe(`forged IPC from a --user nobody worker (${mode} mode)`, { skip: nobodySkip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-ipc-'));
    chmodSync(dir, 0o755);
    // The --cron exec runs as the workers' user: its file is in a directory it may write.
    const shared = join(dir, 'shared');
    mkdirSync(shared, { mode: 0o1777 });
    chmodSync(shared, 0o1777);
    let serial = 0;
    let t: Tsgun;
    let url: string;
    let pidfile: string;
    let ctl: string;
    let cronFile: string;
    let cronCommand: string;

    /** A master of its own for each case: no case depends on what an earlier one did to it. */
    async function start(env: NodeJS.ProcessEnv = {}): Promise<void> {
      serial++;
      pidfile = join(dir, `m${serial}.pid`);
      ctl = join(dir, `m${serial}.ctl`);
      cronFile = join(shared, `cron${serial}.log`);
      cronCommand = `echo tick >> ${cronFile}`;
      t = new Tsgun(
        [
          fixture('forge-ipc.mjs'),
          '-b',
          '127.0.0.1:0',
          '-w',
          '2',
          '--user',
          'nobody',
          '-p',
          pidfile,
          '--cron',
          `* * * * * * exec:${cronCommand}`,
          // The stats path (statusDelta, timings) runs for every report with statsd on.
          '--statsd-host',
          '127.0.0.1:9',
          ...(mode === 'router' ? ['--router'] : []),
        ],
        { env },
      );
      await t.waitForReady(2);
      if (mode === 'router') await t.waitForLog((l) => l.msg === 'router ready');
      url = (await t.url()).replace(/\/$/, '');
    }
    beforeEach(() => start());
    afterEach(() => killGroup(t.child));

    /** The master serves and answers status within a second, for `ms` (polled). */
    async function keepsServing(ms: number): Promise<void> {
      const deadline = Date.now() + ms;
      do {
        const took = await statusMs(ctl);
        assert.ok(took < 1000, `status took ${Math.round(took)} ms`);
        const r = await request(url);
        assert.equal(r.status, 200, r.body);
        await new Promise((resolve) => setTimeout(resolve, 100));
      } while (Date.now() < deadline);
      assert.ok(isAlive(t.pid));
    }

    /** Ask a worker to forge `name`; the master must keep serving while it does and after. */
    async function forge(name: string, query = ''): Promise<number> {
      const mark = t.logs.length;
      const r = await request(`${url}/forge/${name}${query}`);
      assert.equal(r.status, 200, r.body);
      await keepsServing(2000);
      return mark;
    }

    /** The first line since `mark` that matches; failing, the master's lines since then. */
    const logged = (mark: number, re: RegExp) =>
      t
        .waitForLog((l) => re.test(l.msg), 10_000, mark)
        .catch(() => {
          const lines = t.logs
            .slice(mark)
            .filter((l) => !String(l['job'] ?? l['command'] ?? '').length);
          throw new Error(
            `no line matched ${re}; since then:\n${lines.map((l) => l.msg).join('\n')}`,
          );
        });

    it("the issue's `schedule: 'nope'`, sent as the app loads: refused with one line", async () => {
      killGroup(t.child);
      // The protocol's one jobs message comes before ready: the app sends it first.
      await start({ FORGE_AT_BOOT: 'nope' });
      await logged(0, /^app job x not scheduled: invalid cron schedule "nope"$/);
      await keepsServing(2000);
    });

    it("the issue's `schedule: 'nope'` once the worker is ready: dropped", async () => {
      const mark = await forge('nope');
      await logged(mark, /^dropped a message from worker \d+: jobs after ready or sent twice$/);
    });

    it('20,000 every-second jobs in one message: dropped (at most 100), status within 1 s', async () => {
      const mark = await forge('jobs-20000');
      await logged(mark, /^dropped a message from worker \d+: malformed jobs message/);
      await keepsServing(2000);
    });

    it("an app job named like the operator's --cron entry: the --cron entry keeps running", async () => {
      await waitForFile(cronFile, (text) => text.length > 0);
      const name = `cron[0] exec:${cronCommand}`;
      await forge('collide', `?name=${encodeURIComponent(name)}`);
      const lines = () =>
        existsSync(cronFile) ? readFileSync(cronFile, 'utf8').split('\n').length : 0;
      const before = lines();
      assert.ok(await pollUntil(() => lines() >= before + 2, 5000), 'the --cron entry stopped');
    });

    it('every message type with wrong types, huge and nested values: dropped, logged, replaced', async () => {
      const mark = await forge('wrong-types');
      await logged(mark, /^dropped a message from worker \d+: (malformed|ready after ready)/);
      await logged(mark, /^replacing worker \d+: \d+ bad messages$/);
      const lines = t.logs.slice(mark).filter((l) => l.msg.startsWith('dropped a message'));
      // At most one line a second per worker.
      assert.ok(lines.length <= 10, `${lines.length} lines`);
      await keepsServing(1000);
    });

    // The lines below are refused before Node's reader parses them (ipc/line-limits.ts): the
    // master never spends the second or more a parse of them takes, and the worker is stopped.
    it('1e6-element arrays, 1e6 statusDelta keys: stopped before the master parses them', async () => {
      const mark = await forge('huge');
      await logged(
        mark,
        /^stopping worker \d+: its IPC channel is broken \(a message holds more than 200,000 values\)$/,
      );
      await t.waitForLog((l) => l.msg === 'worker ready', 15_000, mark);
      await keepsServing(1000);
    });

    it('a 50 MB string, and 700 MiB without a newline: stopped at 8 MiB', async () => {
      for (const name of ['long-string', 'no-newline']) {
        const mark = await forge(name);
        await logged(
          mark,
          /^stopping worker \d+: its IPC channel is broken \(a message is longer than 8,388,608 bytes\)$/,
        );
        await t.waitForLog((l) => l.msg === 'worker ready', 15_000, mark);
        // Its channel closed at once: it exited by itself, and Node's reader never saw the end.
        await t.waitForLog((l) => l.msg === 'worker exited' && l['code'] === 0, 10_000, mark);
        assert.deepEqual(
          t.logs.slice(mark).filter((l) => /process error/.test(l.msg)),
          [],
        );
      }
      await keepsServing(1000);
    });

    it('100,000 nested arrays as the type, the jobs and the protocol version', async () => {
      const mark = await forge('deep');
      await logged(
        mark,
        /^stopping worker \d+: its IPC channel is broken \(a message nests more than 64 arrays and objects\)$/,
      );
      await t.waitForLog((l) => l.msg === 'worker ready', 15_000, mark);
      await keepsServing(1000);
    });

    it('unknown message types and versions', async () => {
      const mark = await forge('unknown');
      await logged(mark, /^dropped a message from worker \d+: unknown (message type|protocol)/);
    });

    it('jobs and ready again and again: dropped, nothing rescheduled, the worker replaced', async () => {
      const mark = await forge('repeat');
      await logged(mark, /^dropped a message from worker \d+: jobs after ready or sent twice/);
      await logged(mark, /^replacing worker \d+: \d+ bad messages$/);
      const rescheduled = t.logs.slice(mark).filter((l) => /app job\(s\)$/.test(l.msg));
      assert.deepEqual(rescheduled, []);
    });

    it('a flood of 200,000 messages: the sender is replaced, status within 1 s throughout', async () => {
      const mark = await forge('flood');
      await logged(mark, /^replacing worker \d+: more than 1000 messages in a second$/);
      await keepsServing(1000);
    });

    it('a flood that goes on after its replacement: its channel is closed', async () => {
      const mark = await forge('stubborn');
      await logged(mark, /^replacing worker \d+: more than 1000 messages in a second$/);
      // The message rate closes it a second later, or the byte budget before Node parses more.
      await logged(
        mark,
        /^closing the IPC channel of worker \d+: still more than 1000|^stopping worker \d+: its IPC channel is broken \(more than 16,777,216 bytes/,
      );
      await keepsServing(1000);
    });

    it('bytes that are not JSON on the channel: that worker is stopped, the master serves', async () => {
      const mark = await forge('invalid-json');
      await logged(mark, /^stopping worker \d+: its IPC channel is broken \(SyntaxError/);
      await t.waitForLog((l) => l.msg === 'worker ready', 15_000, mark);
      await keepsServing(1000);
    });

    it('`tsgun status` still answers after a flood and a broken channel', async () => {
      await forge('flood');
      await forge('invalid-json');
      const r = await runTsgun(['status', '-p', pidfile, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { pid: number }).pid, t.pid);
    });
  });
}

describe('a worker cut off for a broken channel', () => {
  it('answers the requests it had accepted before it exits', async () => {
    const t = new Tsgun([fixture('forge-ipc.mjs'), '-b', '127.0.0.1:0', '-w', '1']);
    await t.waitForReady(1);
    const url = await t.url();
    const mark = t.logs.length;
    // One worker: the slow request and the forged bytes are the same process's.
    const slow = request(`${url}/slow?ms=1500`);
    assert.equal((await request(`${url}/forge/invalid-json`)).status, 200);
    await t.waitForLog(
      (l) => /^stopping worker \d+: its IPC channel is broken/.test(l.msg),
      10_000,
      mark,
    );
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.match(answer.body, /^slow from \d+$/);
    await t.waitForLog((l) => l.msg === 'worker ready', 15_000, mark);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });
});
