import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  cmdline,
  control,
  controlMasters,
  psArgs,
  type StatusJson,
  statusOf,
} from '../helpers/control.js';
import {
  fixture,
  isAlive,
  plainLines,
  runTsgun,
  startApp,
  startRouter,
  Tsgun,
} from '../helpers/tsgun.js';

/**
 * Finding the master: through the app directory's config file, across a USR2 upgrade, and the
 * refusals when no master answers (never a signal to the wrong pid); the process titles `ps`
 * shows. (control.test.ts: the commands against a running master.)
 */

const { dir, master } = controlMasters();

describe("the master found through the app directory's config file, without -p", () => {
  it('status and stop in the directory of a tsgun.config.json that sets pid; elsewhere, one line', async () => {
    const app = mkdtempSync(join(tmpdir(), 'tsgun-appdir-'));
    writeFileSync(join(app, 'app.mjs'), readFileSync(fixture('app.mjs')));
    writeFileSync(
      join(app, 'tsgun.config.json'),
      JSON.stringify({ app: 'app.mjs', bind: '127.0.0.1:0', workers: 2, pid: 'run/tsgun.pid' }),
    );
    mkdirSync(join(app, 'run'));
    const t = new Tsgun([], { cwd: app });
    await t.waitForReady(2);
    const s = await runTsgun(['status', '--json'], { cwd: app });
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual(
      (JSON.parse(s.stdout) as StatusJson).workers.map((w) => w.pid).sort(),
      t.liveWorkerPids().sort(),
    );
    const elsewhere = await runTsgun(['status'], { cwd: dir });
    assert.equal(elsewhere.code, 2);
    assert.match(
      plainLines(elsewhere.stderr)[0]!,
      /which master\? .*tsgun\.config\.\* file sets pid/,
    );
    const stop = await runTsgun(['stop'], { cwd: app });
    assert.equal(stop.code, 0, stop.stderr);
    assert.deepEqual(await t.exited, { code: 0, signal: null });
    rmSync(app, { recursive: true, force: true });
  });
});

describe('control socket across a USR2 upgrade', () => {
  it('the new master answers at PATH.2, then at PATH once promoted; the old one leaves it alone', async () => {
    const { t, pidfile } = await master(1);
    const ctl = pidfile.replace(/\.pid$/, '.ctl');
    const newMaster = await t.upgrade(1);
    const side = await control('status', '--control-socket', `${ctl}.2`, '--json');
    assert.equal(side.code, 0, side.stderr);
    assert.equal(JSON.parse(side.stdout).pid, newMaster);
    assert.equal((await statusOf(pidfile)).pid, t.pid);
    // Stop the old master through its socket; the new one is promoted and takes the path over.
    const stop = await control('stop', '-p', pidfile);
    assert.equal(stop.code, 0, stop.stderr);
    await t.waitForLog((l) => l.pid === newMaster && l.msg === 'master has been promoted', 15_000);
    let s: StatusJson | null = null;
    for (let deadline = Date.now() + 5000; Date.now() < deadline; ) {
      const r = await control('status', '-p', pidfile, '--json');
      if (r.code === 0) {
        s = JSON.parse(r.stdout) as StatusJson;
        if (s.pid === newMaster) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s?.pid, newMaster);
    assert.ok(!existsSync(`${ctl}.2`));
    const end = await control('stop', '-p', pidfile);
    assert.equal(end.code, 0, end.stderr);
    assert.ok(!existsSync(ctl));
  });
});

describe('no master answers: one line, non-zero, never a signal to the wrong pid', () => {
  it('a pidfile naming a live process that is not tsgun: refused, and that process survives', async () => {
    const other = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      const pidfile = join(dir, 'other.pid');
      writeFileSync(pidfile, `${other.pid}\n`);
      for (const verb of [['stop'], ['stop', '--quick'], ['reload'], ['scale', '2'], ['status']]) {
        const r = await control(...verb, '-p', pidfile);
        assert.equal(r.code, 5, r.stderr);
        assert.equal(plainLines(r.stderr).length, 1);
        assert.match(
          r.stderr,
          new RegExp(
            `process ${other.pid}, which is not a tsgun master \\(sleep 30\\) \\[TSGUN_ERR_NO_MASTER\\]`,
          ),
        );
      }
      assert.ok(isAlive(other.pid!));
      assert.equal(other.exitCode, null);
      assert.equal(other.signalCode, null);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a stale pidfile, a garbage one, a missing socket, a stale socket, a symlink', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    await once(dead, 'exit');
    const stale = join(dir, 'stale.pid');
    writeFileSync(stale, `${dead.pid}\n`);
    let r = await control('stop', '-p', stale);
    assert.equal(r.code, 5);
    assert.match(
      r.stderr,
      new RegExp(`stale pidfile .*: process ${dead.pid} is not running \\[TSGUN_ERR_NO_MASTER\\]`),
    );

    const garbage = join(dir, 'garbage.pid');
    writeFileSync(garbage, '-1\n');
    r = await control('stop', '-p', garbage);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /holds no pid: "-1\\n" .*\[TSGUN_ERR_NO_MASTER\]/);

    r = await control('status', '--control-socket', join(dir, 'nothing.sock'));
    assert.equal(r.code, 5);
    assert.match(r.stderr, /no such socket: .*nothing\.sock/);

    // A socket file nobody listens on any more (a master that was SIGKILLed).
    const { t, pidfile } = await master(1);
    t.kill();
    await t.exited;
    r = await control('status', '-p', pidfile);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /stale pidfile/);
    r = await control('status', '--control-socket', pidfile.replace(/\.pid$/, '.ctl'));
    assert.equal(r.code, 5);
    assert.match(
      r.stderr,
      /no master answers at .* \(a stale control socket\) \[TSGUN_ERR_NO_MASTER\]/,
    );

    const link = join(dir, 'link.sock');
    symlinkSync(pidfile.replace(/\.pid$/, '.ctl'), link);
    r = await control('status', '--control-socket', link);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is a symlink: refusing to follow it \[TSGUN_ERR_CONTROL_SOCKET\]/);
  });
});

describe('process titles and --help', () => {
  it('ps shows tsgun: master/worker N/router [NAME]', async () => {
    const t = await startRouter(2, '--name', 'billing');
    const masterArgs = await psArgs(t.pid);
    assert.equal(masterArgs, 'tsgun: master [billing]');
    const workers = t.liveWorkerPids().map(cmdline).sort();
    assert.deepEqual(workers, ['tsgun: worker 0 [billing]', 'tsgun: worker 1 [billing]']);
    const router = t.logs.find((l) => l.role === 'router')!.pid;
    assert.equal(cmdline(router), 'tsgun: router [billing]');
    t.kill();
  });

  it('the default name is the package.json name beside the app, else the file name', async () => {
    const app = join(dir, 'pkgapp');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), '{"name":"orders-api"}');
    writeFileSync(join(app, 'server.mjs'), readFileSync(fixture('app.mjs'), 'utf8'));
    const plain = startApp(); // test/fixtures/app.mjs: no package.json beside it
    const withPkg = new Tsgun([join(app, 'server.mjs'), '-b', '127.0.0.1:0']);
    await plain.waitForReady(1);
    await withPkg.waitForReady(1);
    assert.equal(cmdline(plain.pid), 'tsgun: master [app]');
    assert.equal(cmdline(withPkg.pid), 'tsgun: master [orders-api]');
    assert.ok(withPkg.logs.every((l) => l.name === 'orders-api'));
    plain.kill();
    withPkg.kill();
  });

  it('--help lists every command, and each has its own --help', async () => {
    const help = await runTsgun(['--help']);
    assert.equal(help.code, 0);
    for (const cmd of ['status', 'reload', 'scale', 'stop', 'stats', 'top', 'help', 'version'])
      assert.match(help.stdout, new RegExp(`^  tsgun ${cmd}\\b`, 'm'), cmd);
    for (const cmd of ['status', 'reload', 'scale', 'stop', 'stats', 'top']) {
      const own = await runTsgun([cmd, '--help']);
      assert.equal(own.code, 0, cmd);
      assert.match(own.stdout, new RegExp(`^Usage: tsgun ${cmd} `, 'm'));
      const viaHelp = await runTsgun(['help', cmd]);
      assert.equal(viaHelp.stdout, own.stdout);
    }
    const scale = await runTsgun(['scale', '--help']);
    assert.match(scale.stdout, /-p, --pid <FILE>/);
    assert.match(scale.stdout, /--control-socket <PATH>/);
    const typo = await runTsgun(['stop', '--quik', '-p', 'x']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /tsgun stop: unknown option '--quik' \(did you mean --quick\?\)/);
  });
});
