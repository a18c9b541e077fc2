import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setPeer } from '../../src/platform/socket-state.js';

const peer = { address: '203.0.113.7', port: 56324, family: 'IPv4' };
const answers = (s: Socket) => [s.remoteAddress, s.remotePort, s.remoteFamily];

describe('setPeer (--proxy-protocol)', () => {
  it("puts the client where Node's getters read it: no own properties on the socket", () => {
    const s = new Socket();
    setPeer(s, peer);
    assert.deepEqual(answers(s), ['203.0.113.7', 56324, 'IPv4']);
    assert.equal(Object.hasOwn(s, 'remoteAddress'), false);
  });

  it('shadows the getters when Node no longer reads _peername', () => {
    const s = new Socket();
    // A Node whose getters ask elsewhere.
    Object.defineProperty(s, '_getpeername', { value: () => ({}) });
    setPeer(s, peer);
    assert.deepEqual(answers(s), ['203.0.113.7', 56324, 'IPv4']);
    assert.equal(Object.hasOwn(s, 'remoteAddress'), true);
  });
});
