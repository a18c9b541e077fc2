import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { BACKOFF_CAP_MS } from '../../src/master/decisions/plan.js';
import { request } from '../helpers/http.js';
import { fixture, isAlive, killAll, killGroup, Tsgun } from '../helpers/tsgun.js';

// A failed fork must never turn into a signal to a pid that is not ours (kill(-1) reaches every
// process the master's user may signal). The master runs as an unused uid, so that a regression
// can only hit processes of that uid: the canary below, in a session of its own.

const isRoot = process.getuid?.() === 0;
const hasTools = ['setpriv', 'prlimit'].every(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0,
);

/** Uid of every process, read from /proc (pid -> uid). */
function processUids(): Map<number, number> {
  const uids = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      uids.set(Number(entry), uid);
    } catch {
      // Gone while we looked.
    }
  }
  return uids;
}

/** A uid no account has and no process runs as. */
function unusedUid(): number {
  const inUse = new Set(processUids().values());
  for (let uid = 54321; uid < 60000; uid++) {
    if (inUse.has(uid)) continue;
    if (spawnSync('getent', ['passwd', String(uid)]).status !== 0) return uid;
  }
  throw new Error('no unused uid');
}

/** Tasks (threads count: RLIMIT_NPROC counts them) of every process of `uid`. */
function tasksOf(uid: number): number {
  let tasks = 0;
  for (const [pid, owner] of processUids()) {
    if (owner !== uid) continue;
    try {
      tasks += readdirSync(`/proc/${pid}/task`).length;
    } catch {
      // Gone.
    }
  }
  return tasks;
}

const asUser = (uid: number) => ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];

describe('a fork that fails', {
  skip: !isRoot || !hasTools ? 'needs root, setpriv and prlimit' : false,
}, () => {
  const canaries: ChildProcess[] = [];
  after(() => {
    killAll();
    for (const c of canaries) killGroup(c);
  });

  it('signals nothing that is not ours: the master keeps serving, counts the failure, exits 0 on TERM', async () => {
    const uid = unusedUid();
    const [cmd, ...args] = [...asUser(uid), 'sleep', '600'];
    const canary = spawn(cmd!, args, { detached: true, stdio: 'ignore' });
    canaries.push(canary);
    await once(canary, 'spawn');

    const t = new Tsgun(
      [fixture('app.mjs'), '-b', '127.0.0.1:0', '-w', '1', '--ready-timeout', '1'],
      { shellPrefix: `exec ${asUser(uid).join(' ')}` },
    );
    await t.waitForReady(1);
    const url = await t.url();
    assert.equal((await request(url)).status, 200);

    // From now on the master of this uid may not fork: every task of the uid counts.
    const limit = tasksOf(uid);
    // Only the soft limit, which the same user may raise again (a hard one it may only lower).
    const setLimit = (soft: number | 'unlimited') => {
      const prlimit = spawnSync(
        asUser(uid)[0]!,
        [...asUser(uid).slice(1), 'prlimit', `--pid=${t.pid}`, `--nproc=${soft}:`],
        { encoding: 'utf8' },
      );
      assert.equal(prlimit.status, 0, prlimit.stderr);
    };
    setLimit(limit);

    const mark = t.logs.length;
    t.signal('SIGTTIN');
    const first = await t.waitForLog((l) => l.msg.startsWith('cannot fork worker'), 10_000, mark);
    assert.equal(first['errorCode'], 'TSGUN_ERR_FORK');
    assert.match(first.msg, /EAGAIN/);
    assert.match(first.msg, /serving with 1 worker\(s\), retrying in \d+ ms/);
    // Retried under the crash backoff (0, 100, 200, 400, 800 ms...; 1.5 s in all): the sixth failure comes
    // after more than --ready-timeout, when a record with a fake pid would have been killed.
    await t.waitForLog((l) => Number(l['forkFailures']) >= 6, 15_000, mark);
    assert.equal(isAlive(canary.pid!), true, 'the canary of the same uid survived');
    assert.equal((await request(url)).status, 200, 'the worker it had still serves');
    assert.equal(
      t.logs.some((l) => l.msg === 'booting worker' && l['worker'] === 2),
      false,
      'a failed fork is never a worker record',
    );

    // The limit is lifted: the next retry forks, and the count is back to 2 with no operator.
    const lifted = t.logs.length;
    const hard = /^Max processes\s+\S+\s+(\S+)/m.exec(
      readFileSync(`/proc/${t.pid}/limits`, 'utf8'),
    );
    setLimit(hard![1] === 'unlimited' ? 'unlimited' : Number(hard![1]));
    await t.waitForReady(1, lifted, BACKOFF_CAP_MS + 5000);

    t.signal('SIGTERM');
    const { code } = await t.exited;
    assert.equal(code, 0);
    assert.equal(isAlive(canary.pid!), true, 'the canary survived the stop');
  });
});
