import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { H2_PREFACE, sniffPreface } from '../../src/child/h2-front.js';
import { forwardedHeaders } from '../../src/router/forwarded.js';
import { requestHeaders } from '../../src/router/headers.js';

describe('HTTP/2 front', () => {
  it('tells the h2c preface from an HTTP/1.1 request, byte by byte', () => {
    assert.equal(sniffPreface(H2_PREFACE), 'h2');
    assert.equal(sniffPreface(Buffer.concat([H2_PREFACE, Buffer.from('more')])), 'h2');
    assert.equal(sniffPreface(H2_PREFACE.subarray(0, 10)), 'more');
    assert.equal(sniffPreface(Buffer.from('P')), 'more');
    assert.equal(sniffPreface(Buffer.from('POST / HTTP/1.1\r\n')), 'http1');
    assert.equal(sniffPreface(Buffer.from('GET / HTTP/1.1\r\n')), 'http1');
    assert.equal(sniffPreface(Buffer.from('PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n')), 'http1');
  });

  it('passes no pseudo-header to a worker, and :authority as its Host', () => {
    const fwd = { for: '1.2.3.4', proto: 'https', host: 'example.test' };
    const raw = [':method', 'GET', ':path', '/', ':authority', 'example.test', 'accept', '*/*'];
    assert.deepEqual(requestHeaders(raw, undefined, fwd, false), [
      ...['accept', '*/*', 'host', 'example.test'],
      ...['x-forwarded-for', '1.2.3.4', 'x-forwarded-proto', 'https'],
      ...['x-forwarded-host', 'example.test'],
    ]);
    // A Host the client sent as well wins (RFC 9113 8.3.1 lets both be there).
    const both = requestHeaders([':authority', 'a', 'host', 'b'], undefined, fwd, false);
    assert.deepEqual(both.slice(0, 2), ['host', 'b']);
    assert.equal(both.filter((v) => v === 'host').length, 1);
    const f = forwardedHeaders({
      peer: '::1',
      encrypted: true,
      headers: { ':authority': 'example.test' },
      trusted: false,
    });
    assert.equal(f.host, 'example.test');
  });
});
