import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { clientLoop, getJson, request } from '../helpers/http.js';
import { fixture, killAll, plainLines, ROOT, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

const tmp = () => mkdtempSync(join(tmpdir(), 'tsgun-'));
const lines = (file: string) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

describe('config file', () => {
  it('is discovered as ./tsgun.config.json when no -c is given', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'tsgun.config.json'),
      JSON.stringify({ worker_connections: 7, app: 'x.mjs' }),
    );
    const r = await runTsgun(['--print-config'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Record<string, { value: unknown; source: string }>;
    assert.deepEqual(printed['workerConnections'], { value: 7, source: 'file' });
    assert.deepEqual(printed['config'], { value: join(dir, 'tsgun.config.json'), source: 'file' });
  });

  it('--check-config lists every problem at once', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ workers: 0, backlgo: 5, timeout: 'x' }));
    const r = await runTsgun(['--check-config', '-c', join(dir, 'bad.json'), 'app.mjs']);
    assert.equal(r.code, 2);
    const problems = plainLines(r.stderr);
    assert.equal(problems.length, 3, r.stderr);
    assert.ok(
      problems.some(
        (p) => p.includes('unknown setting "backlgo"') && p.includes('did you mean backlog?'),
      ),
    );
  });
});

describe('server hooks', () => {
  it('fire once each with their arguments; a throwing hook is logged, not fatal', async () => {
    const hookLog = join(tmp(), 'hooks.log');
    const t = new Tsgun([fixture('app.mjs'), '-c', fixture('hooks.config.cjs')], {
      env: { FIXTURE_HOOK_LOG: hookLog },
    });
    const [first] = await t.waitForReady(1);
    const url = await t.url();
    await request(`${url}/hello`);
    const failed = await t.waitForLog((l) => l.msg === 'hook postFork failed: boom from postFork');
    assert.equal(failed.level, 50);
    let mark = t.logs.length;
    t.signal('SIGTTIN');
    await t.waitForReady(1, mark);
    await t.reload(15_000);
    const victim = t.liveWorkerPids()[0]!;
    mark = t.logs.length;
    process.kill(victim, 'SIGINT');
    await t.waitForReady(1, mark);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);

    const calls = lines(hookLog).map(
      (l) => JSON.parse(l) as Record<string, unknown> & { hook: string },
    );
    const count = (hook: string) => calls.filter((c) => c.hook === hook).length;
    for (const once of ['onStarting', 'whenReady', 'onReload', 'onExit'])
      assert.equal(count(once), 1, once);
    assert.equal(calls[0]!.hook, 'onStarting');
    assert.equal(calls.at(-1)!.hook, 'onExit');
    // TTIN 1 -> 2; the reload keeps the operator's 2 (the config's workers did not change).
    assert.deepEqual(
      calls.filter((c) => c.hook === 'nworkersChanged').map((c) => [c['next'], c['previous']]),
      [[2, 1]],
    );
    const spawned = count('postFork');
    assert.equal(count('preFork'), spawned);
    assert.equal(count('postWorkerInit'), spawned);
    assert.equal(count('childExit'), spawned);
    assert.equal(count('workerExit'), spawned);
    assert.deepEqual(
      calls.filter((c) => c.hook === 'workerInt').map((c) => c['workerPid']),
      [victim],
    );
    const pre = calls.find((c) => c.hook === 'preRequest');
    assert.deepEqual([pre?.['url'], pre?.['pid']], ['/hello', first!['workerPid']]);
    const post = calls.find((c) => c.hook === 'postRequest');
    assert.deepEqual([post?.['url'], post?.['status']], ['/hello', 200]);
  });

  for (const spelling of ['kebab', 'snake', 'camel']) {
    it(`are called in master and workers when written in ${spelling} case`, async () => {
      const hookLog = join(tmp(), 'hooks.log');
      const t = new Tsgun([fixture('app.mjs'), '-c', fixture('hooks.config.cjs')], {
        env: { FIXTURE_HOOK_LOG: hookLog, FIXTURE_HOOK_SPELLING: spelling },
      });
      await t.waitForReady(1);
      await request(`${await t.url()}/hello`);
      let mark = t.logs.length;
      t.signal('SIGTTIN');
      await t.waitForReady(1, mark);
      mark = t.logs.length;
      process.kill(t.liveWorkerPids()[0]!, 'SIGINT');
      await t.waitForReady(1, mark);
      t.signal('SIGTERM');
      assert.equal((await t.exited).code, 0);
      const called = new Set(lines(hookLog).map((l) => (JSON.parse(l) as { hook: string }).hook));
      // Every hook but onReload, preExec and workerAbort (HUP, USR2, a blocked loop: covered in
      // camelCase above and, for every spelling, by the key-matching unit tests).
      for (const hook of [
        'onStarting',
        'whenReady',
        'preFork',
        'postFork',
        'postWorkerInit',
        'preRequest',
        'postRequest',
        'nworkersChanged',
        'workerInt',
        'workerExit',
        'childExit',
        'onExit',
      ])
        assert.ok(called.has(hook), `${hook} not called (${[...called].join(', ')})`);
    });
  }

  it('onStarting that throws aborts the start with one line', async () => {
    const dir = tmp();
    writeFileSync(
      join(dir, 'c.cjs'),
      "module.exports = { onStarting() { throw new Error('no database'); } };",
    );
    const r = await runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '-c', join(dir, 'c.cjs')]);
    assert.equal(r.code, 2);
    assert.deepEqual(plainLines(r.stderr), [
      'tsgun: error: onStarting hook failed: no database [TSGUN_ERR_HOOK]',
    ]);
  });
});

describe('scheduled jobs', () => {
  it('an app job runs once per tick in exactly one of 4 workers, and never overlaps itself', async () => {
    const jobLog = join(tmp(), 'jobs.log');
    const t = new Tsgun([fixture('jobs.mjs'), '-b', '127.0.0.1:0', '-w', '4'], {
      env: { FIXTURE_JOB_LOG: jobLog },
    });
    await t.waitForReady(4);
    // The slow job must have been skipped at least once and have finished twice.
    await t.waitForLog((l) => l.msg === 'job slow is still running: this tick is skipped', 10_000);
    const firstDone = await t.waitForLog((l) => l.msg === 'job slow done', 10_000);
    await t.waitForLog((l) => l.msg === 'job slow done', 10_000, t.logs.indexOf(firstDone) + 1);
    t.kill();
    const runs = lines(jobLog).map((l) => {
      const [start, end, name, pid] = l.split(' ');
      return { start: Number(start), end: Number(end), name: name!, pid: Number(pid) };
    });
    const ticks = runs.filter((r) => r.name === 'tick');
    assert.ok(ticks.length >= 3, `only ${ticks.length} ticks`);
    const seconds = ticks.map((r) => Math.floor(r.start / 1000));
    assert.equal(new Set(seconds).size, seconds.length, 'a tick ran twice (once per worker?)');
    assert.ok(new Set(ticks.map((r) => r.pid)).size >= 2, 'ticks are spread over the workers');
    const slow = runs.filter((r) => r.name === 'slow').sort((a, b) => a.start - b.start);
    assert.ok(slow.length >= 2);
    for (let i = 1; i < slow.length; i++)
      assert.ok(slow[i]!.start >= slow[i - 1]!.end, 'slow overlapped itself');
  });

  it('--cron exec runs a shell command from the master, output logged, without NOTIFY_SOCKET', async () => {
    const out = join(tmp(), 'cron.out');
    const t = new Tsgun(
      [
        fixture('app.mjs'),
        '-b',
        '127.0.0.1:0',
        '--cron',
        `* * * * * * exec:echo tick \${NOTIFY_SOCKET:-none} >> ${out}`,
      ],
      // systemd's socket is the master's; the master warns once that it cannot notify here.
      { env: { NOTIFY_SOCKET: join(tmp(), 'no-such-notify-socket') } },
    );
    await t.waitForReady(1);
    await t.waitForLog(
      (l) => l.msg.startsWith('cron exec: echo tick') && l.msg.endsWith('done'),
      5000,
    );
    const second = t.logs.length;
    await t.waitForLog((l) => l.msg.startsWith('cron exec: echo tick'), 5000, second);
    t.kill();
    assert.ok(lines(out).length >= 2);
    assert.deepEqual([...new Set(lines(out))], ['tick none']);
  });

  it('--cron restart-workers replaces every worker one at a time', async () => {
    const t = new Tsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '-w',
      '2',
      '--cron',
      '* * * * * * restart-workers',
    ]);
    await t.waitForReady(2);
    const before = t.liveWorkerPids();
    await t.waitForLog((l) => l.msg === 'cron: restarting every worker, one batch at a time');
    const mark = t.logs.length;
    await t.waitForReady(2, mark);
    t.kill();
    assert.ok(
      t.logs
        .slice(mark)
        .some((l) => l.msg === 'worker exited' && before.includes(l['workerPid'] as number)),
    );
  });

  it('rejects an invalid cron spec and a malformed jobs export', async () => {
    const bad = await runTsgun(['app.mjs', '--cron', '61 * * * * reload']);
    assert.equal(bad.code, 2);
    assert.match(plainLines(bad.stderr)[0]!, /--cron: invalid cron expression "61 \* \* \* \*"/);
    const noAction = await runTsgun(['app.mjs', '--cron', '* * * * * nothing']);
    assert.match(plainLines(noAction.stderr)[0]!, /--cron: expected "SPEC ACTION"/);
    const dir = tmp();
    writeFileSync(
      join(dir, 'app.mjs'),
      "export const jobs = [{ name: 'x', schedule: 'often', run() {} }];\nexport default (q, s) => s.end();\n",
    );
    const jobs = await runTsgun([join(dir, 'app.mjs'), '-b', '127.0.0.1:0']);
    assert.equal(jobs.code, 4);
    // Told in full once, by the worker that loaded the app; the last line says it again.
    const told = jobs.stderr
      .split('\n')
      .filter((l) => l.includes('"role":"worker"') && l.includes('invalid cron schedule'));
    assert.equal(told.length, 1, jobs.stderr);
    assert.match(told[0]!, /jobs\[0\] \(x\): invalid cron schedule \\"often\\"/);
    assert.match(
      plainLines(jobs.stderr)[0]!,
      /could not boot: .*invalid cron schedule "often".* \(details in its record above\) \[TSGUN_ERR_JOBS\]$/,
    );
  });
});

describe('--reload', () => {
  it('picks up a file change under load with zero failed requests', async () => {
    const dir = tmp();
    const app = join(dir, 'app.mjs');
    copyFileSync(fixture('app.mjs'), app);
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2', '--reload'], { cwd: ROOT });
    await t.waitForReady(2);
    const url = await t.url();
    const load = clientLoop(url, { concurrency: 4 });
    const mark = t.logs.length;
    writeFileSync(
      app,
      readFileSync(app, 'utf8').replace('url: req.url,', 'version: 2, url: req.url,'),
    );
    await t.waitForLog((l) => l.msg === 'reload complete', 15_000, mark);
    const stats = await load.stop();
    assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join(', '));
    assert.equal((await getJson<{ version?: number }>(url)).version, 2);
    t.kill();
  });
});
