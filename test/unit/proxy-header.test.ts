import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProxyHeader, V1_MAX, V2_MAX } from '../../src/child/proxy-header.js';

const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** A v2 header: version/command byte, family/protocol byte, then the address block. */
const v2 = (vc: number, fam: number, body: number[]) =>
  Buffer.from([...SIG, vc, fam, body.length >> 8, body.length & 0xff, ...body]);
const V4_BODY = [198, 51, 100, 9, 10, 0, 0, 1, 0x1f, 0x90, 0x01, 0xbb];
const V6_BODY = [
  0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 2, 0x0f, 0xa0, 0x01, 0xbb,
];
const REQUEST = Buffer.from('GET / HTTP/1.1\r\n\r\n');

describe('parseProxyHeader', () => {
  it('v1 TCP4 and TCP6: the client address and port, and how many bytes were the header', () => {
    const h = Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n');
    assert.deepEqual(parseProxyHeader(Buffer.concat([h, REQUEST])), {
      kind: 'done',
      consumed: h.length,
      source: { address: '203.0.113.7', port: 56324, family: 'IPv4' },
    });
    const h6 = Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n');
    assert.deepEqual(parseProxyHeader(h6), {
      kind: 'done',
      consumed: h6.length,
      source: { address: '2001:db8::1', port: 4000, family: 'IPv6' },
    });
  });

  it('v1 UNKNOWN, v2 LOCAL, UNSPEC and unix keep the peer (source null)', () => {
    const unknown = Buffer.from('PROXY UNKNOWN\r\n');
    assert.deepEqual(parseProxyHeader(unknown), {
      kind: 'done',
      consumed: unknown.length,
      source: null,
    });
    for (const h of [
      v2(0x20, 0x00, []),
      v2(0x21, 0x00, []),
      v2(0x21, 0x31, new Array(216).fill(0)),
    ])
      assert.deepEqual(parseProxyHeader(h), { kind: 'done', consumed: h.length, source: null });
  });

  it('v2 PROXY over IPv4 and IPv6; TLVs after the addresses are skipped', () => {
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x11, V4_BODY)), {
      kind: 'done',
      consumed: 28,
      source: { address: '198.51.100.9', port: 8080, family: 'IPv4' },
    });
    const withTlv = v2(0x21, 0x11, [...V4_BODY, 0x04, 0x00, 0x03, 1, 2, 3]);
    const r = parseProxyHeader(Buffer.concat([withTlv, REQUEST]));
    assert.equal(r.kind === 'done' && r.consumed, withTlv.length);
    assert.deepEqual(parseProxyHeader(v2(0x21, 0x21, V6_BODY)), {
      kind: 'done',
      consumed: 52,
      source: { address: '2001:db8::1', port: 4000, family: 'IPv6' },
    });
  });

  it('split at every byte: more until the last one, then the same answer', () => {
    for (const whole of [
      Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n'),
      v2(0x21, 0x11, [...V4_BODY, 0x04, 0x00, 0x01, 9]),
    ]) {
      for (let n = 0; n < whole.length; n++)
        assert.deepEqual(parseProxyHeader(whole.subarray(0, n)), { kind: 'more' }, `at ${n}`);
      assert.equal(parseProxyHeader(whole).kind, 'done');
    }
  });

  it('refuses a missing, malformed or oversized header', () => {
    const bad = [
      REQUEST,
      Buffer.from('\x16\x03\x01\x02\x00'),
      Buffer.from('PROXY TCP4 1.2.3.4\r\n'),
      Buffer.from('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'),
      Buffer.from('PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n'),
      Buffer.from('PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n'),
      Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'),
      Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'),
      Buffer.from(`PROXY TCP4 ${'1'.repeat(V1_MAX)}`),
      v2(0x31, 0x11, V4_BODY),
      v2(0x22, 0x11, V4_BODY),
      v2(0x21, 0x11, V4_BODY.slice(0, 8)),
      v2(0x21, 0x21, V6_BODY.slice(0, 20)),
      v2(0x21, 0x51, V4_BODY),
    ];
    for (const b of bad)
      assert.equal(parseProxyHeader(b).kind, 'error', JSON.stringify(b.toString('latin1')));
    const huge = Buffer.from([...SIG, 0x21, 0x11, 0xff, 0xff]);
    assert.equal(parseProxyHeader(huge).kind, 'error', `announced over ${V2_MAX}`);
  });
});
