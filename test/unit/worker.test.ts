import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { receiveFromMaster, receiveFromWorker, workerMessage } from '../../src/ipc/protocol.js';
import { formatTime } from '../../src/worker/access-log.js';
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
