import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Stall, settleWithin, stallReason } from '../../src/config/settle.js';

describe('settleWithin (start-up steps that run the operator code)', () => {
  const stalled = (why: Stall) => new Error(`stalled: ${why}`);

  it('passes a value or an error through, and leaves no beforeExit listener', async () => {
    const before = process.listenerCount('beforeExit');
    assert.equal(await settleWithin(Promise.resolve(7), 10, stalled), 7);
    await assert.rejects(settleWithin(Promise.reject(new Error('boom')), 10, stalled), /boom/);
    assert.equal(process.listenerCount('beforeExit'), before);
  });

  it('fails with the deadline once it passes, and its timer alone holds no loop', async () => {
    const never = new Promise<never>(() => {});
    const keep = setTimeout(() => {}, 5_000); // the test's own loop: only the deadline may end it
    await assert.rejects(settleWithin(never, 0.05, stalled), /stalled: deadline/);
    clearTimeout(keep);
  });

  it('says why in the words every step shares', () => {
    assert.equal(stallReason('deadline', 60), 'within --startup-timeout (60 s)');
    assert.match(stallReason('idle', 60), /^and nothing is left that could settle it/);
  });
});
