import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { killAll, type Tsgun } from '../helpers/tsgun.js';
import { type AttackCase, CASES, expected, MODES, type Outcome } from './cases.js';
import { failures, startTarget } from './target.js';

after(killAll);

for (const mode of MODES) {
  describe(`hostile requests, ${mode} mode (-w 1, default limits, untrusted peer)`, () => {
    let target: { t: Tsgun; send: (c: AttackCase) => Promise<Outcome> };
    before(async () => {
      target = await startTarget(mode);
    });
    for (const c of CASES) {
      it(`${c.id}: ${c.what} -> ${expected(c, mode).status}, then close`, async () => {
        assert.deepEqual(failures(c, mode, await target.send(c)), []);
      });
    }
    it('no smuggled request reached the app (its access log has the cases the app answered)', async () => {
      // A graceful stop flushes the access log (buffered, written once a second).
      target.t.signal('SIGTERM');
      await target.t.exited;
      assert.match(target.t.stdoutText, /"GET \/headers HTTP\/1\.1" 200 /);
      assert.ok(!target.t.stdoutText.includes('/smuggled'));
      // A bad request is the client's doing: never logged nor counted as a worker's failure.
      const blamed = target.t.logs.filter((l) => String(l.msg).startsWith('upstream failed'));
      assert.deepEqual(
        blamed.map((l) => l.msg),
        [],
      );
    });
  });
}
