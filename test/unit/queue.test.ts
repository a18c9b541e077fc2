import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shouldLog } from '../../src/child/log-rate.js';
import { overReadyzThreshold } from '../../src/ipc/protocol.js';
import {
  RequestQueue,
  retryAfterSeconds,
  type ShedReason,
  shedOnArrival,
  shedOnWait,
} from '../../src/router/queue.js';

describe('request queue decisions', () => {
  it('sheds on arrival only when the limit would be passed, never with limit 0', () => {
    const limits = { limit: 2, timeoutMs: 0 };
    assert.equal(shedOnArrival(0, limits), null);
    assert.equal(shedOnArrival(1, limits), null);
    assert.equal(shedOnArrival(2, limits), 'limit');
    assert.equal(shedOnArrival(1_000_000, { limit: 0, timeoutMs: 0 }), null);
  });

  it('sheds a waiter at the timeout, never with timeout 0', () => {
    const limits = { limit: 0, timeoutMs: 500 };
    assert.equal(shedOnWait(499, limits), null);
    assert.equal(shedOnWait(500, limits), 'timeout');
    assert.equal(shedOnWait(1e9, { limit: 0, timeoutMs: 0 }), null);
  });

  it('Retry-After is the queue timeout in whole seconds, within 1..60', () => {
    assert.equal(retryAfterSeconds({ limit: 1, timeoutMs: 0 }), 1);
    assert.equal(retryAfterSeconds({ limit: 1, timeoutMs: 200 }), 1);
    assert.equal(retryAfterSeconds({ limit: 1, timeoutMs: 2500 }), 3);
    assert.equal(retryAfterSeconds({ limit: 1, timeoutMs: 3_600_000 }), 60);
  });

  it('readyz turns over the threshold, not at it; 0 disables', () => {
    assert.equal(overReadyzThreshold(5, 5), false);
    assert.equal(overReadyzThreshold(6, 5), true);
    assert.equal(overReadyzThreshold(1e6, 0), false);
  });

  it('logs at most once a second', () => {
    assert.equal(shouldLog(0, null), true);
    assert.equal(shouldLog(999, 0), false);
    assert.equal(shouldLog(1000, 0), true);
  });
});

describe('RequestQueue', () => {
  it('counts waiters, the high-water mark and sheds past the limit, logging once a second', () => {
    let t = 0;
    const lines: [number, ShedReason][] = [];
    const q = new RequestQueue(
      { limit: 2, timeoutMs: 0 },
      (n, r) => lines.push([n, r]),
      () => t,
    );
    const enter = () => q.enter(() => {});
    const a = enter();
    assert.ok(a && enter());
    assert.equal(enter(), null);
    assert.equal(enter(), null);
    t = 1000;
    assert.equal(enter(), null);
    assert.deepEqual(lines, [
      [1, 'limit'],
      [2, 'limit'],
    ]);
    q.leave(a);
    q.leave(a); // twice: inert
    assert.deepEqual(q.stats(), { waiting: 1, highWater: 2, shed: { limit: 3, timeout: 0 } });
    assert.ok(enter());
    q.leave(null);
  });

  it('sheds a request that waited the timeout, once, and not one that left before', async () => {
    const q = new RequestQueue({ limit: 0, timeoutMs: 30 }, () => {});
    const shed: ShedReason[] = [];
    q.enter((r) => shed.push(r));
    const gone = q.enter(() => shed.push('limit'));
    q.leave(gone);
    const deadline = Date.now() + 5000;
    while (shed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(shed, ['timeout']);
    assert.deepEqual(q.stats(), { waiting: 0, highWater: 2, shed: { limit: 0, timeout: 1 } });
  });
});
