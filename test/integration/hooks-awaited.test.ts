import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fixture, killAll, Tsgun, waitForFile } from '../helpers/tsgun.js';

after(killAll);

// Each awaited hook resolves after a delay and only then writes `<hook> done`; the event that
// must wait for it writes its own line at once. Not awaiting the hook reverses the two lines.
describe('hooks that return a promise', () => {
  it('are awaited where docs/settings.md says: onStarting, postWorkerInit, onReload, workerAbort, workerInt, workerExit, onExit', async () => {
    const hookLog = join(mkdtempSync(join(tmpdir(), 'tsgun-')), 'hooks.log');
    const read = () =>
      existsSync(hookLog) ? readFileSync(hookLog, 'utf8').trim().split('\n') : [];
    /** Asserts `first` is written, and before the `n`th (0-based) line equal to `then`. */
    const before = (first: string, then: string, n = 0) => {
      const lines = read();
      const a = lines.indexOf(first);
      const b = lines.map((l, i) => (l === then ? i : -1)).filter((i) => i >= 0)[n] ?? -1;
      assert.ok(
        a >= 0 && b >= 0 && a < b,
        `${first} not before ${then} #${n}:\n${lines.join('\n')}`,
      );
    };
    const t = new Tsgun([fixture('app.mjs'), '-c', fixture('async-hooks.config.cjs')], {
      env: { FIXTURE_HOOK_LOG: hookLog },
    });
    await t.waitForReady(1);
    await waitForFile(hookLog, (text) => text.includes('whenReady'));
    before('onStarting done', 'preFork'); // the master binds and forks after onStarting
    before('postWorkerInit done', 'whenReady'); // the worker is ready after postWorkerInit

    await t.reload(); // HUP: the replacement is forked after onReload
    before('onReload done', 'preFork', 1);

    const [pid] = t.liveWorkerPids();
    const from = t.logs.length;
    process.kill(pid!, 'SIGABRT'); // what the heartbeat timeout sends: the worker exits after
    await waitForFile(hookLog, (text) => text.includes(`childExit ${pid}`));
    before('workerAbort done', `childExit ${pid}`);
    before('workerExit done', `childExit ${pid}`);
    await t.waitForReady(1, from);

    const [last] = t.liveWorkerPids();
    t.signal('SIGINT'); // quick stop: workerInt, then workerExit, in the worker; onExit in the master
    assert.equal((await t.exited).code, 0);
    before('workerInt done', `childExit ${last}`);
    before('workerExit done', `childExit ${last}`, 0);
    const lines = read();
    assert.ok(lines.lastIndexOf('workerExit done') < lines.indexOf(`childExit ${last}`));
    assert.equal(lines.at(-1), 'onExit done', 'the master exited before onExit settled');
  });
});
