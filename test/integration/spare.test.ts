import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getJson } from '../helpers/http.js';
import { fixture, killAll, type LogLine, Tsgun } from '../helpers/tsgun.js';

after(killAll);

interface Seen {
  pid: number;
  clusterId: number | null;
  cwd: string;
  heapLimitMiB: number;
  env: Record<string, string | null>;
}

const booting = (t: Tsgun, index: number, from = 0) =>
  t.waitForLog((l) => l.msg === 'booting worker' && l['workerIndex'] === index, 10_000, from);

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls a condition until it holds (or the deadline passes): there is no event for "exited". */
async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe('the spare worker (forked as the master starts, handed its config and sockets)', () => {
  it('becomes worker 0 with what a fork would have had; its replacement is forked as usual', async () => {
    const t = new Tsgun([fixture('spare-env.mjs'), '-b', '127.0.0.1:0', '-w', '1'], {
      // The app never sees systemd's socket (the master notifies); the master warns once here.
      env: { NOTIFY_SOCKET: join(tmpdir(), 'tsgun-no-such-notify-socket'), FIXTURE_VALUE: 'x' },
    });
    const boot = await booting(t, 0);
    assert.equal(boot['spare'], 'yes');
    const [ready] = await t.waitForReady(1);
    const port = await t.port();
    const seen = await getJson<Seen>(`http://127.0.0.1:${port}/`);
    assert.equal(seen.pid, ready!['workerPid']);
    assert.equal(typeof seen.clusterId, 'number');
    assert.deepEqual(seen.env, {
      PORT: String(port),
      NODE_APP_INSTANCE: '0',
      TSGUN_WORKER_INDEX: '0',
      TSGUN_SPARE: null,
      TSGUN_WORKER_CONFIG: null,
      NOTIFY_SOCKET: null,
      FIXTURE_VALUE: 'x',
    });

    // Its replacement is an ordinary fork on the same socket, with the same environment.
    const mark = t.logs.length;
    process.kill(seen.pid, 'SIGKILL');
    const next = await booting(t, 0, mark);
    assert.equal(next['spare'], undefined, 'one spare, used once');
    await t.waitForReady(1, mark);
    const again = await getJson<Seen>(`http://127.0.0.1:${port}/`);
    assert.equal(again.pid, next['workerPid']);
    assert.deepEqual(again.env, seen.env);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('is discarded when the worker needs what a process reads as it starts (NODE_OPTIONS, --chdir)', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsgun-spare-')));
    const t = new Tsgun([
      fixture('spare-env.mjs'),
      '-b',
      '127.0.0.1:0',
      '-w',
      '1',
      '--env',
      'NODE_OPTIONS=--max-old-space-size=123',
    ]);
    const boot = await booting(t, 0);
    assert.equal(boot['spare'], 'no (NODE_OPTIONS differs)');
    await t.waitForReady(1);
    const seen = await getJson<Seen>(await t.url());
    assert.ok(seen.heapLimitMiB < 200, `NODE_OPTIONS applied: heap limit ${seen.heapLimitMiB} MiB`);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);

    const c = new Tsgun([fixture('spare-env.mjs'), '-b', '127.0.0.1:0', '--chdir', dir]);
    const cboot: LogLine = await booting(c, 0);
    assert.equal(cboot['spare'], 'no (--chdir)');
    await c.waitForReady(1);
    assert.equal((await getJson<Seen>(await c.url())).cwd, dir);
    c.signal('SIGTERM');
    assert.equal((await c.exited).code, 0);
  });

  it('outlives no start that fails: a bad setting exits 2 and leaves no process behind', async () => {
    const t = new Tsgun([fixture('spare-env.mjs'), '-b', '127.0.0.1:0', '-w', 'many']);
    const { code } = await t.exited;
    assert.equal(code, 2);
    assert.match(t.stderrText, /--workers/);
    assert.equal(await until(() => !groupAlive(t.pid), 10_000), true, 'the spare exited too');
    // And nothing else was said: the spare never logs before it is handed a config.
    assert.equal(t.stderrText.trim().split('\n').length, 1, t.stderrText);
  });
});
