import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DropCount, retryRefusedWrite } from '../../src/log/bounded-destination.js';

describe('a log write the pipe refused (EAGAIN)', () => {
  it('is retried later when asynchronous, never by sleeping when synchronous, until the exit deadline', () => {
    assert.equal(retryRefusedWrite({ sync: false, now: 0, giveUpAt: null }), true);
    assert.equal(retryRefusedWrite({ sync: true, now: 0, giveUpAt: null }), false);
    for (const sync of [false, true]) {
      assert.equal(retryRefusedWrite({ sync, now: 999, giveUpAt: 1000 }), true);
      assert.equal(retryRefusedWrite({ sync, now: 1000, giveUpAt: 1000 }), false);
    }
  });
});

describe('dropped log lines', () => {
  it('are said at once when dropping starts, then at most once per interval, with the count since', () => {
    const drops = new DropCount();
    assert.equal(drops.due(0, 10), 0, 'nothing dropped, nothing to say');
    drops.drop();
    assert.equal(drops.due(5, 10), 1);
    drops.drop();
    drops.drop();
    assert.equal(drops.due(10, 10), 0, 'within the interval');
    assert.equal(drops.due(15, 10), 2);
    assert.equal(drops.due(100, 10), 0, 'nothing new');
    drops.drop();
    assert.equal(drops.due(101, 10), 1);
    assert.equal(drops.total, 4);
  });
});
