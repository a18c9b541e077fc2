import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import {
  fixture,
  killAll,
  nobodySkip,
  plainLines,
  runTsgun,
  startApp,
  Tsgun,
  waitForFile,
} from '../helpers/tsgun.js';

after(killAll);

/**
 * --user/--group through the system's user database (getent), the user's supplementary groups
 * (initgroups), and children that refuse to run as root when the switch cannot be made.
 */

/** Real, effective, saved and filesystem ids and the supplementary groups, from the kernel. */
function credentialsOf(pid: number): { uids: number[]; gids: number[]; groups: number[] } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const ids = (name: string) =>
    /^\S+:\s*(.*)$/m
      .exec(status.split('\n').find((l) => l.startsWith(`${name}:`)) ?? `${name}:`)![1]!
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  return { uids: ids('Uid'), gids: ids('Gid'), groups: ids('Groups').sort((a, b) => a - b) };
}

const idList = (...args: string[]): number[] =>
  execFileSync('id', args, { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map(Number)
    .sort((a, b) => a - b);

/**
 * An existing non-root user of this machine, preferring one with supplementary groups (so
 * initgroups has something to keep): read from the user database, never created by the test.
 */
function pickUser(): { name: string; uid: number; gid: number; groups: number[] } {
  const users = execFileSync('getent', ['passwd'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && f[2] !== '0')
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }));
  const withGroups = users.map((u) => ({ ...u, groups: idList('-G', u.name) }));
  const best =
    withGroups.find((u) => u.groups.length > 1) ?? withGroups.find((u) => u.name === 'nobody');
  return best!;
}

const USER = pickUser();
const hasSetpriv = (() => {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('--user through the user database', { skip: nobodySkip }, () => {
  it(`workers, the router and cron commands run as ${USER.name} with its supplementary groups (id -G)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-userdb-'));
    chmodSync(dir, 0o777);
    const cronOut = join(dir, 'cron.out');
    const t = startApp(
      '--router',
      '-w',
      '1',
      '--user',
      USER.name,
      '--cron',
      `* * * * * * exec:id -u >> ${cronOut}; id -G >> ${cronOut}`,
    );
    await t.waitForReady(1);
    const router = await t.waitForLog((l) => l.role === 'router' && /^routing to 1 /.test(l.msg));
    await t.waitForLog((l) => l.role === 'router' && l.msg === 'router accepting');
    const reply = await request(await t.url());
    assert.equal(reply.status, 200, reply.body);
    const worker = (JSON.parse(reply.body) as { pid: number }).pid;
    for (const [what, pid] of [
      ['worker', worker],
      ['router', router.pid as number],
    ] as const) {
      const ids = credentialsOf(pid);
      assert.deepEqual(ids.uids, [USER.uid, USER.uid, USER.uid, USER.uid], `${what} uids`);
      assert.deepEqual(ids.gids, [USER.gid, USER.gid, USER.gid, USER.gid], `${what} gids`);
      assert.deepEqual(
        ids.groups,
        USER.groups,
        `${what}: supplementary groups = id -G ${USER.name}`,
      );
    }
    const out = await waitForFile(cronOut, (s) => s.split('\n').length >= 3);
    const [uid, groups] = out.split('\n');
    assert.equal(Number(uid), USER.uid, 'cron exec uid');
    assert.deepEqual(
      groups!
        .split(' ')
        .map(Number)
        .sort((a, b) => a - b),
      USER.groups,
      'cron exec: id -G',
    );
    t.kill();
  });

  it('a numeric uid works: with a database entry its group comes from there, without one --group is needed', async () => {
    const t = startApp('--user', String(USER.uid));
    await t.waitForReady(1);
    const reply = await request(await t.url());
    const ids = credentialsOf((JSON.parse(reply.body) as { pid: number }).pid);
    assert.equal(ids.uids[1], USER.uid);
    assert.equal(ids.gids[1], USER.gid);
    assert.deepEqual(ids.groups, USER.groups);
    t.kill();

    const lone = startApp('--user', '4242', '--group', '4343');
    await lone.waitForReady(1);
    const alone = credentialsOf(
      (JSON.parse((await request(await lone.url())).body) as { pid: number }).pid,
    );
    assert.deepEqual(alone.uids, [4242, 4242, 4242, 4242]);
    assert.deepEqual(alone.gids, [4343, 4343, 4343, 4343]);
    assert.deepEqual(alone.groups, [4343], 'no entry: only --group, never root group 0');
    lone.kill();

    const r = await runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '--user', '4242']);
    assert.equal(r.code, 2);
    assert.deepEqual(plainLines(r.stderr), [
      'tsgun: error: --user: uid 4242 has no entry in the user database: give --group too [TSGUN_ERR_USER]',
    ]);
  });

  for (const [args, line] of [
    [['--user', 'no-such-user-xq'], '--user: no such user: no-such-user-xq'],
    [['--group', 'no-such-group-xq'], '--group: no such group: no-such-group-xq'],
  ] as const) {
    it(`${args.join(' ')}: one line, exit 2, before anything is bound or forked`, async () => {
      const r = await runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', ...args]);
      assert.equal(r.code, 2);
      assert.deepEqual(plainLines(r.stderr), [`tsgun: error: ${line} [TSGUN_ERR_USER]`]);
      assert.doesNotMatch(r.stderr, /booting worker|listening at/);
    });
  }

  it('a root master that cannot switch (no CAP_SETUID): the worker refuses to run as root, exit 3', {
    skip: hasSetpriv ? false : 'needs setpriv (util-linux)',
  }, async () => {
    const t = new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '--user', USER.name], {
      shellPrefix: 'exec setpriv --bounding-set -setuid,-setgid',
    });
    const { code } = await t.exited;
    assert.equal(code, 3);
    const refusal = t.logs.find((l) => l.role === 'worker' && l.code === 'TSGUN_ERR_USER');
    assert.match(
      String(refusal?.msg),
      /cannot switch to uid \d+ gid \d+: EPERM.*refusing to run as uid 0/,
    );
    assert.equal(t.logs.filter((l) => l.msg === 'worker ready').length, 0, 'never served as root');
    assert.match(plainLines(t.stderrText).at(-1)!, /\[TSGUN_ERR_USER\]$/);
  });

  it('a master that is not root: --user of itself runs, another user is one line and exit 2', {
    skip: hasSetpriv ? false : 'needs setpriv (util-linux)',
  }, async () => {
    const asUser = `exec setpriv --reuid ${USER.uid} --regid ${USER.gid} --init-groups`;
    const self = new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '--user', USER.name], {
      shellPrefix: asUser,
    });
    await self.waitForReady(1);
    assert.equal((await request(await self.url())).status, 200);
    self.kill();
    const other = new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '--user', 'root'], {
      shellPrefix: asUser,
    });
    assert.equal((await other.exited).code, 2);
    assert.deepEqual(plainLines(other.stderrText), [
      `tsgun: error: --user/--group: switching to uid 0 gid 0 needs root (tsgun runs as uid ${USER.uid}) [TSGUN_ERR_USER]`,
    ]);
  });
});
