import assert from 'node:assert/strict';
import {
  chmodSync,
  lchownSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort, request } from '../helpers/http.js';
import {
  fixture,
  killAll,
  NOBODY,
  plainLines,
  runTsgun,
  startApp,
  Tsgun,
  waitForFile,
} from '../helpers/tsgun.js';

after(killAll);

const asRoot = process.getuid?.() === 0 ? false : 'needs root (to plant a link as another user)';

/**
 * A sticky directory every user may write (like /tmp), and a root-only file a link planted there
 * aims at. Returns a function that plants such a link, owned by nobody, at a path in the directory.
 */
function sharedLogDir(): { dir: string; victim: string; plant: (path: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-logs-'));
  chmodSync(dir, 0o1777);
  const victim = join(mkdtempSync(join(tmpdir(), 'tsgun-victim-')), 'precious');
  writeFileSync(victim, 'precious\n', { mode: 0o600 });
  return {
    dir,
    victim,
    plant: (path) => {
      symlinkSync(victim, path);
      lchownSync(path, NOBODY, NOBODY);
    },
  };
}

describe("the master's own log files without --user (tsgun as root)", { skip: asRoot }, () => {
  for (const setting of ['--error-logfile', '--access-logfile']) {
    it(`${setting} at a link another user planted: exit 2, one line, the target untouched`, async () => {
      const { dir, victim, plant } = sharedLogDir();
      const file = join(dir, 'tsgun.log');
      plant(file);
      const r = await runTsgun([fixture('app.mjs'), '-b', '127.0.0.1:0', setting, file]);
      assert.equal(r.code, 2);
      assert.deepEqual(plainLines(r.stderr), [
        `tsgun: error: ${setting}: cannot open ${file}: is a symlink (followed only when root or tsgun's user owns it, never for --user) [TSGUN_ERR_LOGFILE]`,
      ]);
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    });
  }

  it('USR1 after logrotate, with links planted at the paths: the old files stay in use, the targets untouched', async () => {
    const { dir, victim, plant } = sharedLogDir();
    const errors = join(dir, 'error.log');
    const access = join(dir, 'access.log');
    const port = await freePort();
    const args = ['-w', '1', '--error-logfile', errors, '--access-logfile', access];
    const t = new Tsgun([fixture('app.mjs'), '-b', `127.0.0.1:${port}`, ...args]);
    await waitForFile(errors, (s) => s.includes('"worker ready"'));
    const url = `http://127.0.0.1:${port}/`;
    renameSync(errors, `${errors}.1`);
    renameSync(access, `${access}.1`);
    plant(errors);
    plant(access);
    t.signal('SIGUSR1');
    // The master and the worker each say they keep writing to the file they had open.
    await waitForFile(`${errors}.1`, (s) => s.split('cannot reopen').length >= 2);
    assert.equal((await request(`${url}after-usr1`)).status, 200);
    await waitForFile(`${access}.1`, (s) => s.includes('GET /after-usr1'));
    t.signal('SIGTERM');
    await t.exited;
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(statSync(victim).size, 'precious\n'.length);
  });

  it('a link root owns (like /dev/stdout) is still followed', async () => {
    const { dir } = sharedLogDir();
    const real = join(mkdtempSync(join(tmpdir(), 'tsgun-logs-')), 'real.log');
    const link = join(dir, 'root-link.log');
    symlinkSync(real, link);
    const t = startApp('-w', '1', '--error-logfile', link);
    await waitForFile(real, (s) => s.includes('"worker ready"'));
    t.kill();
  });
});
