import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { killAll, type Tsgun } from '../helpers/tsgun.js';
import { type AttackCase, CASES, type Outcome } from './cases.js';
import { startTarget } from './target.js';

after(killAll);

describe('hostile requests in direct mode (-w 1, default limits)', () => {
  let target: { t: Tsgun; send: (c: AttackCase) => Promise<Outcome> };
  before(async () => {
    target = await startTarget();
  });
  for (const c of CASES) {
    it(`${c.id}: ${c.what} -> ${c.status}, then close`, async () => {
      const o = await target.send(c);
      assert.equal(o.status, c.status);
      assert.equal(o.responses, 1, 'a second (smuggled) request was answered');
      assert.equal(o.closed, true, 'the connection stayed open');
    });
  }
  it('no smuggled request reached the app', () => {
    assert.ok(!target.t.stderrText.includes('/smuggled'));
    target.t.kill();
  });
});
