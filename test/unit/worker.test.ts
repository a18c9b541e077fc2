import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { receiveFromMaster, receiveFromWorker, workerMessage } from '../../src/ipc/protocol.js';
import { compileFormat, formatTime } from '../../src/log/access-format.js';
import { classifyExport } from '../../src/worker/load-app.js';
import { checkLimits } from '../../src/worker/request-gate.js';

describe('the IPC protocol', () => {
  it("accepts its own messages, ignores the app's, and flags malformed ones", () => {
    assert.equal(receiveFromWorker(workerMessage({ type: 'ready' })).kind, 'ours');
    assert.equal(receiveFromWorker({ tsgun: 1, type: 'heartbeat' }).kind, 'invalid');
    assert.equal(receiveFromWorker({ hello: 'app message' }).kind, 'foreign');
    assert.equal(receiveFromWorker('a string').kind, 'foreign');
    assert.equal(receiveFromWorker({ tsgun: 1, type: 'nope' }).kind, 'invalid');
    assert.equal(receiveFromWorker({ tsgun: 2, type: 'ready' }).kind, 'invalid');
    assert.equal(
      receiveFromWorker({ tsgun: 1, type: 'retire', reason: 'max-requests' }).kind,
      'invalid',
    );
    assert.equal(
      receiveFromWorker({ tsgun: 1, type: 'boot-error', code: 'X', message: 'm' }).kind,
      'invalid',
    );
    assert.equal(receiveFromMaster({ tsgun: 1, type: 'socket', index: 0 }).kind, 'ours');
    assert.equal(receiveFromMaster({ tsgun: 1, type: 'socket', index: 'a' }).kind, 'invalid');
  });
});

describe('request limits', () => {
  const config = {
    keepAlive: 5,
    limitRequestLine: 30,
    limitRequestFields: 2,
    limitRequestFieldSize: 20,
  };
  const req = (url: string, rawHeaders: string[]) =>
    ({ method: 'GET', url, rawHeaders }) as unknown as IncomingMessage;
  it('answers 414 for a long request line, 431 for too many or too large fields, else 0', () => {
    assert.equal(checkLimits(req('/ok', ['Host', 'x']), config), 0);
    assert.equal(checkLimits(req(`/${'a'.repeat(30)}`, []), config), 414);
    assert.equal(checkLimits(req('/', ['A', '1', 'B', '2', 'C', '3']), config), 431);
    assert.equal(checkLimits(req('/', ['A', 'x'.repeat(30)]), config), 431);
    assert.equal(
      checkLimits(req(`/${'a'.repeat(300)}`, []), { ...config, limitRequestLine: 0 }),
      0,
    );
  });
});

describe('export classification', () => {
  it('tells the four forms apart and names what it got otherwise', () => {
    assert.equal(classifyExport(() => {}, 'x').kind, 'listener');
    assert.equal(classifyExport({ fetch: () => new Response() }, 'x').kind, 'fetch');
    assert.throws(
      () => classifyExport({ a: 1 }, 'export "x"'),
      /export "x" is an object with keys a; expected/,
    );
    assert.throws(() => classifyExport(null, 'x'), /is null/);
  });
});

describe('access log', () => {
  it("formats time as Gunicorn's %(t)s", () => {
    assert.match(
      formatTime(new Date(Date.UTC(2026, 10, 25, 1, 2, 3))),
      /^\[\d\d\/Nov\/2026:\d\d:\d\d:03 [+-]\d{4}\]$/,
    );
  });
});

describe('access log formats', () => {
  const entry = {
    req: {
      method: 'GET',
      url: '/a/b?x=1',
      httpVersion: '1.1',
      headers: {
        'user-agent': 'ua',
        'x-id': '42',
        authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}`,
      },
      socket: { remoteAddress: '10.1.2.3' },
    },
    res: {
      statusCode: 201,
      getHeader: (k: string) => (k === 'content-length' ? 7 : k === 'x-out' ? 'yes' : undefined),
    },
    at: new Date(),
    durationMs: 1234.5678,
  } as unknown as Parameters<ReturnType<typeof compileFormat>>[0];

  it("compiles Gunicorn's atoms", () => {
    const line = compileFormat(
      '%(h)s %(u)s "%(r)s" %(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %(b)s %(a)s %(T)s %(M)s %(D)s %(L)s',
    );
    assert.equal(
      line(entry),
      '10.1.2.3 ann "GET /a/b?x=1 HTTP/1.1" GET /a/b x=1 HTTP/1.1 201 7 7 ua 1 1235 1234568 1.234568',
    );
  });
  it('reads request and response headers and the environment', () => {
    process.env['FIXTURE_ATOM'] = 'env!';
    assert.equal(
      compileFormat('%({x-id}i)s %({X-Out}o)s %({FIXTURE_ATOM}e)s %({nope}i)s')(entry),
      '42 yes env! -',
    );
  });
  it('rejects an unknown atom', () => {
    assert.throws(() => compileFormat('%(z)s'), /unknown atom %\(z\)s/);
  });
});
