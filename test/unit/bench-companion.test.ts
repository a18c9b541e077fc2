import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { companionProblem } from '../../bench/compare.js';

// A dashboard row whose client did nothing would report the cost of --stats alone as the page's.
describe('bench companion check', () => {
  const good = { page: 1, polls: 6, pollErrors: 0, events: 4, streams: 1 };
  it('accepts a client that loaded the page, held the stream and polled each second', () => {
    assert.equal(companionProblem(good, 6), null);
  });
  it('rejects a client that printed nothing, never loaded, got no events or barely polled', () => {
    assert.equal(companionProblem(null, 6), 'printed no counts');
    assert.equal(companionProblem({ ...good, page: 0 }, 6), 'never loaded the page');
    assert.equal(companionProblem({ ...good, events: 0 }, 6), 'received no events');
    assert.equal(companionProblem({ ...good, pollErrors: 2 }, 6), '2 polls failed');
    assert.equal(companionProblem({ ...good, polls: 1 }, 6), 'only 1 polls in 6 s');
    assert.equal(companionProblem({ polls: 6 }, 6), 'never loaded the page');
  });
});
