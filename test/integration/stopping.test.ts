import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import {
  fixture,
  groupPids,
  inTerminal,
  killAll,
  type LogLine,
  pollUntil,
  startApp,
  Tsgun,
} from '../helpers/tsgun.js';

after(killAll);

/** The fixture's lines of one worker. */
const linesOf = (t: Tsgun, msg: string, pid: unknown): LogLine[] =>
  t.logs.filter((l) => l.msg === msg && l.pid === pid);

describe('stopping', () => {
  it("Ctrl-C (INT to the whole process group): each app's own 1 s cleanup runs to its end, once, then the master exits 0 and nothing is left", async () => {
    const t = new Tsgun([fixture('cleanup-app.mjs'), '-b', '127.0.0.1:0', '-w', '2']);
    const pids = (await t.waitForReady(2)).map((l) => l['workerPid']);
    // What a terminal's Ctrl-C does: the workers get it directly, before the master says anything.
    process.kill(-t.pid, 'SIGINT');
    const { code } = await t.exited;
    assert.equal(code, 0);
    const complete = await t.waitForLog((l) => l.msg === 'shutdown complete');
    for (const pid of pids) {
      const done = await t.waitForLog((l) => l.msg === 'fixture: cleanup done' && l.pid === pid);
      assert.ok(t.logs.indexOf(done) < t.logs.indexOf(complete), 'the master exited first');
      assert.deepEqual(
        linesOf(t, 'fixture: stop handler', pid).map((l) => l['signal']),
        ['SIGINT'],
      );
    }
    // Ended by the app's own cleanup, not by the grace's bound.
    assert.ok(!t.logs.some((l) => l.msg === 'worker did not stop in time, killing it'));
    assert.ok(!t.logs.some((l) => String(l.msg).startsWith('the quick-stop grace is over')));
    assert.ok(await pollUntil(() => groupPids(t.pid).length === 0, 2000), 'a process outlived it');
  });

  it('Ctrl-C at a real terminal: both apps finish their cleanup before the master says shutdown complete', async () => {
    const term = inTerminal([fixture('cleanup-app.mjs'), '-b', '127.0.0.1:0', '-w', '2']);
    await term.waitFor(/worker ready[\s\S]*worker ready/);
    const exited = once(term.child, 'exit');
    term.child.stdin!.write('\x03');
    const text = await term.waitFor(/shutdown complete/);
    const [code] = await exited;
    assert.equal(code, 0);
    const done = [...text.matchAll(/fixture: cleanup done/g)].map((m) => m.index);
    assert.equal(done.length, 2, text.slice(-2000));
    assert.ok(
      done.every((i) => i < text.indexOf('shutdown complete')),
      text.slice(-2000),
    );
    assert.ok(await pollUntil(() => groupPids(term.child.pid!).length === 0, 2000));
  });

  it("a master that is gone during a Ctrl-C does not cut the apps' cleanup (the workers outlive their channel, bounded by the grace)", async () => {
    const t = new Tsgun([fixture('cleanup-app.mjs'), '-b', '127.0.0.1:0', '-w', '2']);
    const pids = (await t.waitForReady(2)).map((l) => l['workerPid']);
    const mark = t.logs.length;
    process.kill(-t.pid, 'SIGINT');
    for (const pid of pids)
      await t.waitForLog((l) => l.msg === 'fixture: stop handler' && l.pid === pid, 10_000, mark);
    // At once, while the apps' cleanup runs (it takes 1 s).

    process.kill(t.pid, 'SIGKILL');
    await t.exited;
    for (const pid of pids)
      await t.waitForLog((l) => l.msg === 'fixture: cleanup done' && l.pid === pid, 5000, mark);
    assert.ok(await pollUntil(() => groupPids(t.pid).length === 0, 3000), 'a worker outlived it');
  });

  for (const [handles, given] of [
    ['SIGINT,SIGTERM', 'SIGINT'],
    ['SIGTERM', 'SIGTERM'],
  ] as const)
    it(`INT to the master alone (kill, tsgun stop --quick): an app handling ${handles} is given ${given} once and finishes`, async () => {
      const t = new Tsgun([fixture('cleanup-app.mjs'), '-b', '127.0.0.1:0', '-w', '1'], {
        env: { STOP_SIGNALS: handles },
      });
      const [ready] = await t.waitForReady(1);
      const pid = ready!['workerPid'];
      t.signal('SIGINT');
      assert.equal((await t.exited).code, 0);
      const complete = await t.waitForLog((l) => l.msg === 'shutdown complete');
      const done = await t.waitForLog((l) => l.msg === 'fixture: cleanup done' && l.pid === pid);
      assert.ok(t.logs.indexOf(done) < t.logs.indexOf(complete), 'the master exited first');
      assert.deepEqual(
        linesOf(t, 'fixture: stop handler', pid).map((l) => l['signal']),
        [given],
      );
    });

  it('Ctrl-C with an app that has no stop handler of its own still stops at once', async () => {
    const t = startApp('-w', '2', '--graceful-timeout', '30');
    await t.waitForReady(2);
    const sent = Date.now();
    process.kill(-t.pid, 'SIGINT');
    assert.equal((await t.exited).code, 0);
    // Well under the quick-stop grace (2 s): nobody waited for it.
    assert.ok(Date.now() - sent < 1500, `took ${Date.now() - sent} ms`);
    assert.ok(!t.logs.some((l) => l.msg === 'worker did not stop in time, killing it'));
    assert.ok(await pollUntil(() => groupPids(t.pid).length === 0, 2000), 'a process outlived it');
  });

  for (const stop of ['SIGTERM', 'SIGINT'] as const)
    it(`${stop} to the master while an old worker drains after a HUP: its app's SIGTERM handler runs once and its cleanup ends`, async () => {
      const t = new Tsgun([fixture('cleanup-app.mjs'), '-b', '127.0.0.1:0', '-w', '1']);
      const [ready] = await t.waitForReady(1);
      const old = ready!['workerPid'];
      const url = await t.url();
      // Keeps the old worker draining while the stop comes.
      const slow = request(`${url}/slow?ms=3000`).catch((err: Error) => err);
      await t.waitForLog((l) => l.msg === 'fixture: slow request started');
      const mark = t.logs.length;
      t.signal('SIGHUP');
      await t.waitForLog((l) => l.msg === 'fixture: stop handler' && l.pid === old, 10_000, mark);
      t.signal(stop);
      assert.equal((await t.exited).code, 0);
      await t.waitForLog((l) => l.msg === 'fixture: cleanup done' && l.pid === old);
      assert.deepEqual(
        linesOf(t, 'fixture: stop handler', old).map((l) => l['signal']),
        ['SIGTERM'],
      );
      if (stop === 'SIGTERM') assert.equal(((await slow) as { status: number }).status, 200);
      assert.ok(
        await pollUntil(() => groupPids(t.pid).length === 0, 2000),
        'a process outlived it',
      );
    });
});
