import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  fixture,
  killAll,
  NOBODY,
  nobodySkip,
  plainLines,
  runTsgun,
  startApp,
  type Tsgun,
  waitForFile,
} from '../helpers/tsgun.js';

/**
 * Files the master opens that another user can replace: a FIFO blocks open() until a reader
 * comes, and a master waiting there answers nothing, not even TERM; a device or a kernel file
 * fails on write. Each is refused with one line, at start (exit 2) and in a running master (the
 * file open before is kept). Every run is bounded: a hang is a failure, not a stuck suite.
 */

after(killAll);

/** mkfifo as `uid` (the workers' user plants it), bounded: mkfifo never waits. */
function mkfifo(path: string, uid = 0): void {
  const r = spawnSync('mkfifo', [path], { uid, gid: uid, timeout: 5_000 });
  assert.equal(r.status, 0, String(r.stderr));
}

const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-special-'));
  chmodSync(dir, 0o755);
  return dir;
};

describe('special files at start: one line, exit 2, no hang', () => {
  const start = (...args: string[]) =>
    runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', '-w', '1', ...args], { timeoutMs: 10_000 });

  it('--error-logfile /proc/self/mem (a kernel file posing as a regular one)', async () => {
    const r = await start('--error-logfile', '/proc/self/mem');
    assert.deepEqual(plainLines(r.stderr), [
      'tsgun: error: --error-logfile: cannot open /proc/self/mem: is a kernel file (/proc, /sys), not a regular file [TSGUN_ERR_LOGFILE]',
    ]);
    assert.equal(r.code, 2);
  });

  for (const setting of ['--error-logfile', '--access-logfile']) {
    it(`${setting} at a FIFO with no reader`, async () => {
      const fifo = join(fresh(), 'app.log');
      mkfifo(fifo);
      const r = await start(setting, fifo);
      assert.deepEqual(plainLines(r.stderr), [
        `tsgun: error: ${setting}: cannot open ${fifo}: is a FIFO, not a regular file [TSGUN_ERR_LOGFILE]`,
      ]);
      assert.equal(r.code, 2);
    });
  }

  for (const name of ['tsgun.config.json', 'tsgun.config.mjs']) {
    it(`a config file that is a FIFO (${name})`, async () => {
      const fifo = join(fresh(), name);
      mkfifo(fifo);
      const r = await start('-c', fifo);
      assert.deepEqual(plainLines(r.stderr), [
        `tsgun: error: --config: cannot load ${fifo}: is a FIFO, not a regular file [TSGUN_ERR_CONFIG_INVALID]`,
      ]);
      assert.equal(r.code, 2);
    });
  }

  it('--certfile at a FIFO', async () => {
    const fifo = join(fresh(), 'cert.pem');
    mkfifo(fifo);
    const r = await start('--certfile', fifo, '--keyfile', fifo);
    assert.deepEqual(plainLines(r.stderr), [
      `tsgun: error: --certfile: cannot read ${fifo}: is a FIFO, not a regular file [TSGUN_ERR_TLS]`,
    ]);
    assert.equal(r.code, 2);
  });

  it('/dev/null is still a log file (a device, but one that never blocks)', async () => {
    const pidfile = join(fresh(), 'tsgun.pid');
    const t = startApp(
      '-w',
      '1',
      '-p',
      pidfile,
      ...['--error-logfile', '/dev/null', '--access-logfile', '/dev/null'],
    );
    // Nothing to read in the log: the pidfile says the master is up, `status` that it answers.
    await waitForFile(pidfile, (s) => s.trim() === String(t.pid));
    await status(pidfile);
    await stopsOnTerm(t);
  });
});

/** `tsgun status` against the pidfile, bounded: a master stuck in open() never answers. */
async function status(pidfile: string): Promise<void> {
  const r = await runTsgun(['status', '-p', pidfile, '--json'], { timeoutMs: 5_000 });
  assert.equal(r.code, 0, `tsgun status: ${r.stderr}`);
}

/** The master's error lines in a log file. */
function masterErrors(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; role: string; msg: string })
    .filter((l) => l.role === 'master' && l.level >= 50)
    .map((l) => l.msg);
}

/** TERM stops the master promptly (a graceful stop of one idle worker). */
async function stopsOnTerm(t: Tsgun): Promise<void> {
  t.signal('SIGTERM');
  const timer = setTimeout(() => t.kill(), 10_000);
  const { code } = await t.exited;
  clearTimeout(timer);
  assert.equal(code, 0, 'the master did not stop on TERM');
}

describe('a log file the workers user replaces with a FIFO', { skip: nobodySkip }, () => {
  /** A log directory `nobody` can write, a pidfile in root's own directory. */
  function dirs(): { logs: string; pidfile: string } {
    const dir = fresh();
    const logs = join(dir, 'logs');
    mkdirSync(logs);
    chownSync(logs, NOBODY, NOBODY);
    return { logs, pidfile: join(dir, 'tsgun.pid') };
  }

  it('USR1, then HUP: the master answers, logs one error line, keeps its old log, stops on TERM', async () => {
    const { logs, pidfile } = dirs();
    const errors = join(logs, 'error.log');
    const t = startApp('-w', '1', '--user', 'nobody', '--error-logfile', errors, '-p', pidfile);
    await waitForFile(errors, (s) => s.includes('"worker ready"'));
    // The workers' user moves the log away and leaves a FIFO in its place.
    renameSync(errors, `${errors}.1`);
    mkfifo(errors, NOBODY);
    t.signal('SIGUSR1');
    const refused = `USR1: --error-logfile: cannot open ${errors}: is a FIFO, not a regular file`;
    await waitForFile(`${errors}.1`, (s) => s.includes(refused));
    await status(pidfile);
    assert.deepEqual(masterErrors(`${errors}.1`), [refused]);
    t.signal('SIGHUP');
    await waitForFile(`${errors}.1`, (s) => s.includes('reloading: replacing workers'));
    await status(pidfile);
    await stopsOnTerm(t);
  });

  it('HUP with the access log replaced by a FIFO: one error line, the master answers', async () => {
    const { logs, pidfile } = dirs();
    const errors = join(logs, 'error.log');
    const access = join(logs, 'access.log');
    const args = ['--error-logfile', errors, '--access-logfile', access, '-p', pidfile];
    const t = startApp('-w', '1', '--user', 'nobody', ...args);
    await waitForFile(errors, (s) => s.includes('"worker ready"'));
    renameSync(access, `${access}.1`);
    mkfifo(access, NOBODY);
    t.signal('SIGHUP');
    const refused = `reload: --access-logfile: cannot open ${access}: is a FIFO, not a regular file`;
    await waitForFile(errors, (s) => s.includes('reload aborted'));
    await status(pidfile);
    // Then the new worker cannot open it either: the master says so and keeps the old one.
    assert.deepEqual(
      masterErrors(errors).filter((msg) => msg.includes(access)),
      [refused, `${refused.slice('reload: '.length)}; keeping 1 serving worker(s), reload aborted`],
    );
    await stopsOnTerm(t);
  });
});
