import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxHeaderSizeFor, NODE_HEADER_CAP } from '../../src/child/server-limits.js';
import {
  type ConnView,
  judge,
  pickVictim,
  UNTOUCHED_GRACE_MS,
} from '../../src/child/slot-policy.js';

const base: ConnView = {
  responding: false,
  readingBody: false,
  sending: false,
  served: false,
  readAt: 0,
  writeAt: 0,
  untouched: false,
  acceptedAt: 0,
};
const limits = { headerMs: 20_000, bodyMs: 60_000, sendMs: 60_000 };

describe('slot policy', () => {
  it('closes the connection that sent nothing longest, idle keep-alive first on a tie, never one in a request', () => {
    const views: [string, ConnView][] = [
      ['busy', { ...base, responding: true, readAt: 0 }],
      ['loris', { ...base, readAt: 50 }],
      ['idle', { ...base, served: true, readAt: 100 }],
      ['fresh', { ...base, readAt: 100 }],
      ['new', { ...base, readAt: 0 }],
    ];
    assert.equal(pickVictim(views, 'new', 5000), 'loris');
    assert.equal(pickVictim(views.slice(2), 'new', 5000), 'idle');
    assert.equal(pickVictim([views[0]!, views[4]!], 'new', 5000), null);
    // Nothing read yet: its request may still be in the kernel. Spared, for a while.
    const unread: [string, ConnView][] = [
      ['unread', { ...base, untouched: true, acceptedAt: 4500 }],
    ];
    assert.equal(pickVictim(unread, null, 5000), null);
    assert.equal(pickVictim(unread, null, 4500 + UNTOUCHED_GRACE_MS), 'unread');
  });

  it('on a full tie closes the older connection, whatever order the views come in', () => {
    const older: [string, ConnView] = [
      'older',
      { ...base, served: true, readAt: 100, acceptedAt: 10 },
    ];
    const newer: [string, ConnView] = [
      'newer',
      { ...base, served: true, readAt: 100, acceptedAt: 90 },
    ];
    assert.equal(pickVictim([newer, older], null, 5000), 'older');
    assert.equal(pickVictim([older, newer], null, 5000), 'older');
  });

  it('judges stalls, not slowness: body and send without progress, headers never finished', () => {
    const now = 100_000;
    assert.equal(judge({ ...base, readAt: now - 20_000 }, now, limits), 'header');
    assert.equal(judge({ ...base, served: true, readAt: 0 }, now, limits), 'keep');
    const body = { ...base, responding: true, readingBody: true };
    assert.equal(judge({ ...body, readAt: now - 59_999 }, now, limits), 'keep');
    assert.equal(judge({ ...body, readAt: now - 60_000 }, now, limits), 'body');
    const send = { ...base, responding: true, sending: true, readAt: 0 };
    assert.equal(judge({ ...send, writeAt: now - 60_000 }, now, limits), 'send');
    assert.equal(judge({ ...send, writeAt: now - 1000 }, now, limits), 'keep');
    // The app thinking for minutes is not the client's fault.
    assert.equal(judge({ ...base, responding: true, readAt: 0, writeAt: 0 }, now, limits), 'keep');
    assert.equal(judge({ ...body, readAt: 0 }, now, { headerMs: 0, bodyMs: 0, sendMs: 0 }), 'keep');
  });

  it('raises Node header cap only when a field may be larger than it', () => {
    const config = { limitRequestLine: 4094, limitRequestFieldSize: 8190 };
    assert.equal(maxHeaderSizeFor(config as never), 0);
    const big = maxHeaderSizeFor({ ...config, limitRequestFieldSize: 40_000 } as never);
    assert.ok(big >= 40_000 + NODE_HEADER_CAP);
  });
});
