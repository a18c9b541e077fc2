import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { getJson } from '../helpers/http.js';
import { fixture, groupPids, killAll, type LogLine, pollUntil, Tsgun } from '../helpers/tsgun.js';

after(killAll);

interface Seen {
  pid: number;
  clusterId: number | null;
  cwd: string;
  umask: string;
  title: string;
  argv: string[];
  execArgv: string[];
  noDeprecation: boolean;
  env: Record<string, string>;
}

const booting = (t: Tsgun, index: number, from = 0) =>
  t.waitForLog((l) => l.msg === 'booting worker' && l['workerIndex'] === index, 10_000, from);

/** What should be the same in any two workers of one master (cluster's id and the pid are not). */
function given(seen: Seen): Omit<Seen, 'pid' | 'clusterId'> {
  const { pid: _pid, clusterId: _id, env, ...rest } = seen;
  const { NODE_UNIQUE_ID: _unique, ...sameEnv } = env;
  return { ...rest, env: sameEnv };
}

describe('the spare worker (forked as the master starts, handed its config and sockets)', () => {
  it('becomes worker 0 with exactly what a fork gives its replacement (env, argv, umask, cwd, title)', async () => {
    const t = new Tsgun(
      [fixture('spare-env.mjs'), '-b', '127.0.0.1:0', '-w', '1', '--umask', '077'],
      // The app never sees systemd's socket (the master notifies; here it warns once).
      { env: { NOTIFY_SOCKET: join(tmpdir(), 'tsgun-no-such-notify-socket'), FIXTURE_VALUE: 'x' } },
    );
    const boot = await booting(t, 0);
    assert.match(String(boot['spare']), /^yes/);
    const [ready] = await t.waitForReady(1);
    const port = await t.port();
    const seen = await getJson<Seen>(`http://127.0.0.1:${port}/`);
    assert.equal(seen.pid, ready!['workerPid']);
    assert.equal(typeof seen.clusterId, 'number');
    assert.equal(seen.umask, '0077', '--umask, set in the master after the spare started');
    assert.equal(seen.env['PORT'], String(port));
    assert.equal(seen.env['NODE_APP_INSTANCE'], '0');
    assert.equal(seen.env['FIXTURE_VALUE'], 'x');
    for (const key of ['TSGUN_SPARE', 'TSGUN_WORKER_CONFIG', 'NOTIFY_SOCKET'])
      assert.equal(seen.env[key], undefined, key);

    // Its replacement is an ordinary fork on the same socket, and is given the same.
    const mark = t.logs.length;
    process.kill(seen.pid, 'SIGKILL');
    const next = await booting(t, 0, mark);
    assert.equal(next['spare'], undefined, 'one spare, used once');
    await t.waitForReady(1, mark);
    const again = await getJson<Seen>(`http://127.0.0.1:${port}/`);
    assert.equal(again.pid, next['workerPid']);
    assert.deepEqual(given(again), given(seen));
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('is handed its boot whether it is still starting or already waiting when the master is ready', async () => {
    // The spare starts 1.5 s late: the master takes it first, and it is booted once it says so.
    const slow = new Tsgun([fixture('spare-env.mjs'), '-b', '127.0.0.1:0'], {
      env: { NODE_OPTIONS: `--import=${fixture('slow-spare.mjs')}` },
    });
    assert.equal((await booting(slow, 0))['spare'], 'yes (starting)');
    await slow.waitForReady(1);
    assert.equal((await getJson<Seen>(await slow.url())).env['NODE_APP_INSTANCE'], '0');
    slow.signal('SIGTERM');
    assert.equal((await slow.exited).code, 0);

    // The master starts 1.5 s late (an onStarting hook): the spare is waiting by then.
    const late = new Tsgun([
      fixture('spare-env.mjs'),
      '-b',
      '127.0.0.1:0',
      '-c',
      fixture('slow-start.config.cjs'),
    ]);
    assert.equal((await booting(late, 0))['spare'], 'yes (waiting)');
    await late.waitForReady(1);
    assert.equal((await getJson<Seen>(await late.url())).env['NODE_APP_INSTANCE'], '0');
    late.signal('SIGTERM');
    assert.equal((await late.exited).code, 0);
  });

  it('is stopped when the worker needs what a process reads as it starts (NODE_OPTIONS, --chdir)', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tsgun-spare-')));
    const t = new Tsgun([
      fixture('spare-env.mjs'),
      '-b',
      '127.0.0.1:0',
      '-w',
      '1',
      '--env',
      'NODE_OPTIONS=--no-deprecation',
    ]);
    const boot = await booting(t, 0);
    assert.equal(boot['spare'], 'no (NODE_OPTIONS differs)');
    await t.waitForReady(1);
    const seen = await getJson<Seen>(await t.url());
    assert.equal(seen.noDeprecation, true, 'NODE_OPTIONS read as the worker started');
    // The spare is gone: the group holds the master and its one worker.
    assert.equal(await pollUntil(() => groupPids(t.pid).length === 2, 5_000), true);
    assert.deepEqual(groupPids(t.pid).sort(), [t.pid, seen.pid].sort());
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
    assert.equal(await pollUntil(() => groupPids(t.pid).length === 0, 10_000), true);
    // And nothing else was said: the spare never logs before it is handed a config.
    assert.equal(t.stderrText.trim().split('\n').length, 1, t.stderrText);
  });

  it('leaves no TSGUN_SPARE from the operator to a forked worker, which would wait for a boot', async () => {
    const t = new Tsgun([fixture('spare-env.mjs'), '-b', '127.0.0.1:0', '-w', '1'], {
      env: { TSGUN_SPARE: '1' },
    });
    await t.waitForReady(1);
    const url = await t.url();
    const first = await getJson<Seen>(url);
    assert.equal(first.env['TSGUN_SPARE'], undefined);
    const mark = t.logs.length;
    process.kill(first.pid, 'SIGKILL');
    const next = await booting(t, 0, mark);
    assert.equal(next['spare'], undefined);
    await t.waitForReady(1, mark);
    assert.equal((await getJson<Seen>(url)).env['TSGUN_SPARE'], undefined);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });
});
