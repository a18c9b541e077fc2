import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WORKERS } from '../../src/ipc/control.js';
import { targetStep } from '../../src/master/control/target-step.js';

describe('targetStep (TTIN/TTOU)', () => {
  it('TTIN adds one, up to MAX_WORKERS', () => {
    assert.equal(targetStep('SIGTTIN', 2).next, 3);
    assert.equal(targetStep('SIGTTIN', 0).next, 1);
    const full = targetStep('SIGTTIN', MAX_WORKERS);
    assert.equal(full.next, null);
    assert.equal(full.level, 'warn');
    assert.match(full.message, new RegExp(`already at ${MAX_WORKERS} workers`));
  });

  it('TTOU removes one, never below one', () => {
    assert.equal(targetStep('SIGTTOU', 3).next, 2);
    assert.equal(targetStep('SIGTTOU', 2).next, 1);
    assert.deepEqual(targetStep('SIGTTOU', 1), {
      next: null,
      level: 'info',
      message: 'TTOU: already at one worker',
    });
  });
});
