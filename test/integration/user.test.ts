import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasOpenssl, makeCert } from '../helpers/certs.js';
import { freePort, request } from '../helpers/http.js';
import {
  fixture,
  killAll,
  NOBODY,
  nobodySkip,
  plainLines,
  runTsgun,
  startApp,
  Tsgun,
  waitForFile,
} from '../helpers/tsgun.js';

after(killAll);

const AS_NOBODY = ['--user', 'nobody', '--group', 'nogroup'];

interface Reply {
  pid: number;
  uid: number;
}

/** A fresh directory under /tmp that other users may enter (mkdtemp makes it 0700). */
function openDir(mode = 0o755): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-user-'));
  chmodSync(dir, mode);
  return dir;
}

function assertOwnedByNobody(st: Stats, what: string): void {
  assert.equal(st.uid, NOBODY, `${what}: owner uid`);
  assert.equal(st.gid, NOBODY, `${what}: owner gid`);
}

/** The real uid and gid of a live process, from the kernel. */
function idsOf(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

/** --router with --user: resolves once the router routes to `workers` workers. */
async function startRouter(workers: number, ...args: string[]): Promise<Tsgun> {
  const t = startApp('--router', '-w', String(workers), ...AS_NOBODY, ...args);
  await t.waitForLog((l) => l.msg === 'router ready');
  await t.waitForReady(workers);
  await t.waitForLog((l) => l.role === 'router' && l.msg === `routing to ${workers} worker(s)`);
  await t.waitForLog((l) => l.role === 'router' && l.msg === 'router accepting');
  return t;
}

describe('--user nobody --group nogroup, in every mode', { skip: nobodySkip }, () => {
  it('router mode: the router (as nobody) reaches the workers through private 0600 sockets', async () => {
    const t = await startRouter(2);
    const url = await t.url();
    for (let i = 0; i < 4; i++) {
      const reply = await request(url);
      assert.equal(reply.status, 200, reply.body);
      assert.equal((JSON.parse(reply.body) as Reply).uid, NOBODY);
    }
    const routerPid = t.logs.find((l) => l.msg === 'router ready')!['routerPid'] as number;
    assert.deepEqual(idsOf(routerPid), { uid: NOBODY, gid: NOBODY });
    const dir = t.logs.find((l) => l.msg.startsWith('router mode:'))!['privateDir'] as string;
    const dirStat = statSync(dir);
    assertOwnedByNobody(dirStat, dir);
    assert.equal(dirStat.mode & 0o777, 0o700);
    const sockets = readdirSync(dir);
    assert.equal(sockets.length, 2, sockets.join(' '));
    for (const name of sockets) {
      const st = statSync(join(dir, name));
      assert.ok(st.isSocket(), name);
      assertOwnedByNobody(st, name);
      assert.equal(st.mode & 0o777, 0o600, name);
    }
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
    assert.equal(existsSync(dir), false, 'the private directory is removed on exit');
  });

  it('-b unix:PATH: the socket file belongs to the workers user and group, mode from --umask', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tsgun-user-')), 'app.sock');
    const t = new Tsgun([
      fixture('app.mjs'),
      '-b',
      `unix:${path}`,
      '--umask',
      '0o007',
      ...AS_NOBODY,
    ]);
    await t.waitForReady(1);
    const st = statSync(path);
    assertOwnedByNobody(st, path);
    assert.equal(st.mode & 0o777, 0o770);
    const reply = await request('http://localhost/', { socketPath: path });
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as Reply).uid, NOBODY);
    t.kill();
  });

  for (const router of [false, true]) {
    it(`TLS${router ? ' in router mode' : ''}: a 0600 root key the workers cannot read works (the master sends the PEM)`, {
      skip: !hasOpenssl && 'openssl is needed to make test certificates',
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsgun-user-tls-')); // 0700, root's
      const { cert, key } = makeCert(dir, 'localhost');
      chmodSync(key, 0o600);
      const args = ['--certfile', cert, '--keyfile', key];
      const t = router ? await startRouter(1, ...args) : startApp('-w', '1', ...AS_NOBODY, ...args);
      if (!router) await t.waitForReady(1);
      const url = await t.url();
      assert.match(url, /^https:/);
      const reply = await request(url);
      assert.equal(reply.status, 200);
      assert.equal((JSON.parse(reply.body) as Reply).uid, NOBODY);
      t.signal('SIGTERM'); // the master removes the private directory on a clean exit
      assert.equal((await t.exited).code, 0);
    });
  }

  it('log files: the workers write them, and reopen them after USR1 (logrotate moved them)', async () => {
    const dir = join(openDir(), 'logs'); // created by the master, as root
    const access = join(dir, 'access.log');
    const errors = join(dir, 'error.log');
    const t = startApp(
      '-w',
      '2',
      '--access-logfile',
      access,
      '--error-logfile',
      errors,
      ...AS_NOBODY,
    );
    const boot = await waitForFile(errors, (s) => s.split('"worker ready"').length === 3);
    const url = new URL(/"address":"([^"]+)"/.exec(boot)![1]!).href;
    for (const file of [access, errors]) {
      assertOwnedByNobody(statSync(file), file);
      assert.equal(statSync(file).mode & 0o777, 0o640, file);
    }
    for (let i = 0; i < 3; i++) assert.equal((await request(`${url}before`)).status, 200);
    await waitForFile(access, (s) => s.split('\n').length === 4);

    renameSync(access, `${access}.1`);
    renameSync(errors, `${errors}.1`);
    t.signal('SIGUSR1');
    await waitForFile(errors, (s) => s.includes('reopened log files'));
    for (const file of [access, errors]) assertOwnedByNobody(statSync(file), `new ${file}`);
    for (let i = 0; i < 3; i++) assert.equal((await request(`${url}after`)).status, 200);
    // Every line written after the reopen is in the new file, none lost.
    await waitForFile(access, (s) => s.split('\n').length === 4);
    assert.doesNotMatch(readFileSync(access, 'utf8'), /GET \/before/);
    assert.equal(readFileSync(`${access}.1`, 'utf8').split('\n').length, 4);
    // The workers' own error log lines (their stop) land in the new error log too.
    t.signal('SIGTERM');
    await t.exited;
    const workerLines = readFileSync(errors, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"role":"worker"') && l.includes('stopping gracefully'));
    assert.equal(workerLines.length, 2, readFileSync(errors, 'utf8'));
  });

  /** tsgun as nobody with this --access-logfile: exit 2 before any worker, one line, returned. */
  async function refusedAccessLog(file: string): Promise<string> {
    const r = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--access-logfile',
      file,
      ...AS_NOBODY,
    ]);
    assert.equal(r.code, 2, r.stderr);
    const lines = plainLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0]!,
      /^tsgun: error: --access-logfile: cannot open .*\[TSGUN_ERR_LOGFILE\]$/,
    );
    assert.doesNotMatch(r.stderr, /booting worker/);
    return lines[0]!;
  }

  it('a log file in a directory the workers user cannot enter fails the start: exit 2, one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-user-')); // 0700, root's
    const file = join(dir, 'access.log');
    const line = await refusedAccessLog(file);
    assert.match(line, new RegExp(`cannot open ${file}: user ${NOBODY} cannot enter ${dir} `));
  });

  it('a symlink planted at a log path is refused, its target never given to the workers user', async () => {
    const dir = openDir(0o1777); // like /tmp: anyone may plant a link here
    const target = join(mkdtempSync(join(tmpdir(), 'tsgun-user-')), 'precious');
    writeFileSync(target, 'root only\n', { mode: 0o600 });
    const file = join(dir, 'access.log');
    symlinkSync(target, file);
    assert.match(await refusedAccessLog(file), /: is a symlink /);
    assert.equal(statSync(target).uid, 0, 'the target still belongs to root');
    assert.equal(readFileSync(target, 'utf8'), 'root only\n');
  });

  for (const [setting, mode] of [
    ['--access-logfile', []],
    ['--error-logfile', []],
    ['--error-logfile', ['--router']],
  ] as const) {
    it(`${setting} the workers${mode.length ? ' (or the router)' : ''} still cannot open: one boot error (exit 3), not a crash loop`, async () => {
      // A root-only character device: the master opens it, and does not chown what is not a file.
      const device = join(openDir(), 'null');
      execFileSync('mknod', [device, 'c', '1', '3']);
      chmodSync(device, 0o600);
      const r = await runTsgun([
        fixture('app.mjs'),
        '-b',
        '127.0.0.1:0',
        '-w',
        '2',
        setting,
        device,
        ...mode,
        ...AS_NOBODY,
      ]);
      assert.equal(r.code, 3, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      // The last line names the code; the path and errno are in it, or in the worker's record
      // it refers to when that record reached stderr (--error-logfile is the one that cannot).
      assert.match(lines[0]!, /\[TSGUN_ERR_LOGFILE\]$/);
      assert.match(r.stderr, new RegExp(`${setting}: cannot open ${device}: EACCES`));
      assert.doesNotMatch(r.stderr, /respawning/);
    });
  }

  it('--stats (tcp and unix) reports the workers running as nobody', async () => {
    const port = await freePort();
    const path = join(mkdtempSync(join(tmpdir(), 'tsgun-user-')), 'stats.sock');
    for (const stats of [`127.0.0.1:${port}`, `unix:${path}`]) {
      const t = startApp('-w', '2', '--stats', stats, ...AS_NOBODY);
      await t.waitForReady(2);
      const reply = await request(
        stats.startsWith('unix:') ? 'http://localhost/' : `http://${stats}/`,
        stats.startsWith('unix:') ? { socketPath: path } : {},
      );
      assert.equal(reply.status, 200, stats);
      const doc = JSON.parse(reply.body) as { worker: { pid: number }[] };
      assert.equal(doc.worker.length, 2, stats);
      for (const w of doc.worker) assert.equal(idsOf(w.pid).uid, NOBODY);
      t.signal('SIGTERM');
      assert.equal((await t.exited).code, 0);
    }
  });

  it('--check-config loads the app as the workers user', async () => {
    assert.equal((await runTsgun([fixture('app.mjs'), '--check-config', ...AS_NOBODY])).code, 0);
    const hidden = mkdtempSync(join(tmpdir(), 'tsgun-user-')); // 0700, root's
    copyFileSync(fixture('app.mjs'), join(hidden, 'app.mjs'));
    const r = await runTsgun([join(hidden, 'app.mjs'), '--check-config', ...AS_NOBODY]);
    assert.equal(r.code, 4);
    assert.match(plainLines(r.stderr)[0]!, /\[TSGUN_ERR_APP_NOT_FOUND\]$/);
  });

  it('--cron exec commands and app jobs run as the workers user', async () => {
    const dir = openDir(0o777); // the jobs, run as nobody, write here
    const jobLog = join(dir, 'jobs.log');
    const cronOut = join(dir, 'cron.out');
    const t = new Tsgun(
      [
        fixture('jobs.mjs'),
        '-b',
        '127.0.0.1:0',
        '--cron',
        `* * * * * * exec:id -u >> ${cronOut}`,
        ...AS_NOBODY,
      ],
      { env: { FIXTURE_JOB_LOG: jobLog } },
    );
    await t.waitForReady(1);
    const ran = await waitForFile(jobLog, (s) => / tick \d+\n/.test(s));
    const jobPid = Number(/ tick (\d+)\n/.exec(ran)![1]);
    assert.equal(idsOf(jobPid).uid, NOBODY);
    await waitForFile(cronOut, (s) => s.length > 0);
    assert.equal(readFileSync(cronOut, 'utf8').split('\n')[0], String(NOBODY));
    t.kill();
  });
});

describe('log paths checked at start and on USR1', () => {
  it('a reopen that fails (the path is now a directory) keeps the old file: no crash, no line lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-user-'));
    const access = join(dir, 'access.log');
    const t = startApp('-w', '2', '--access-logfile', access);
    await t.waitForReady(2);
    const url = await t.url();
    renameSync(access, `${access}.1`);
    mkdirSync(access);
    const mark = t.logs.length;
    t.signal('SIGUSR1');
    await t.waitForLog(
      (l) => l.msg === `USR1: --access-logfile: cannot open ${access}: is a directory`,
      10_000,
      mark,
    );
    // Each worker says so in its own log, once its reopen failed.
    const failed = new Set<number>();
    while (failed.size < 2) {
      const line = await t.waitForLog(
        (l) => l.role === 'worker' && l.msg.startsWith('access log') && !failed.has(l.pid),
        10_000,
        mark,
      );
      failed.add(line.pid);
    }
    for (let i = 0; i < 4; i++) assert.equal((await request(`${url}/after`)).status, 200);
    await waitForFile(`${access}.1`, (text) => text.split('GET /after').length === 5);
    assert.equal(t.logs.filter((l) => String(l.msg).includes('respawning')).length, 0);
    t.kill();
  });

  for (const setting of ['--access-logfile', '--error-logfile']) {
    it(`${setting} naming a directory: exit 2 and one line, before any worker`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tsgun-user-'));
      mkdirSync(join(dir, 'logs'));
      const path = join(dir, 'logs');
      const r = await runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', setting, path]);
      assert.equal(r.code, 2);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.equal(
        lines[0],
        `tsgun: error: ${setting}: cannot open ${path}: is a directory [TSGUN_ERR_LOGFILE]`,
      );
      assert.doesNotMatch(r.stderr, /booting worker/);
    });
  }
});
