import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { parseSyntaxHeader } from '../../src/config/syntax-location.js';
import { workerMessage } from '../../src/ipc/protocol.js';
import { receiveFromMaster, receiveFromWorker } from '../../src/ipc/receive.js';
import { compileFormat, formatTime } from '../../src/log/access-format.js';
import { appFrames, frameLocation } from '../../src/worker/app-error.js';
import { quickStopPlan } from '../../src/worker/app-exit.js';
import { suggestExport } from '../../src/worker/app-forms.js';
import { classifyExport } from '../../src/worker/load-app.js';
import { checkLimits, isEnginePolling } from '../../src/worker/request-gate.js';

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

  it('checks pass-busy and notice messages: bounded, known values only', () => {
    const busy = { tsgun: 1, type: 'pass-busy', address: ':9100', port: 9100, attempts: 1 };
    assert.equal(receiveFromWorker(busy).kind, 'ours');
    for (const bad of [
      { ...busy, port: 0 },
      { ...busy, port: 70000 },
      { ...busy, attempts: -1 },
      { ...busy, attempts: 1.5 },
      { ...busy, address: 'x'.repeat(1000) },
    ])
      assert.equal(receiveFromWorker(bad).kind, 'invalid', JSON.stringify(bad).slice(0, 80));
    assert.equal(
      receiveFromWorker({ tsgun: 1, type: 'notice', notice: 'socket-io-polling' }).kind,
      'ours',
    );
    assert.equal(
      receiveFromWorker({ tsgun: 1, type: 'notice', notice: 'anything' }).kind,
      'invalid',
    );
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
  it('tells the forms apart and names what it got otherwise, in one short line', async () => {
    assert.equal((await classifyExport(() => {}, 'x')).kind, 'listener');
    assert.equal((await classifyExport({ fetch: () => new Response() }, 'x')).kind, 'fetch');
    const koa = { use: () => {}, callback: () => () => {} };
    assert.equal((await classifyExport(koa, 'x')).kind, 'listener');
    await assert.rejects(
      classifyExport({ a: 1 }, 'export "x"'),
      /export "x" is an object with keys a, not an app: export a request listener/,
    );
    await assert.rejects(classifyExport(null, 'x'), /is null/);
    const huge = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, i]));
    await assert.rejects(classifyExport(huge, 'x'), (err: Error) => {
      assert.match(err.message, /keys key0, key1, key2, key3, key4 and 995 more/);
      assert.ok(err.message.length < 300, err.message);
      return true;
    });
  });

  it('suggests the export to write: a factory first, else an app export', () => {
    assert.equal(
      suggestExport('m.js', { default: 1, createApp: () => ({}), handler: (_a: 1, _b: 2) => {} }),
      'write m.js:createApp() to call the factory createApp',
    );
    assert.equal(
      suggestExport('m.js', { handler: (_a: 1, _b: 2) => {} }),
      'write m.js:handler to serve the export handler',
    );
    assert.match(suggestExport('m.js', { n: 1 }), /write m\.js:name\(\) to call a factory$/);
  });
});

describe('app load errors', () => {
  it('reads the file, line, source and caret of a syntax error header', () => {
    const frame = parseSyntaxHeader("/x/app.mjs:2\n  res.end('a'\n          ^^^\n\nSyntaxError: x");
    assert.deepEqual(frame, {
      file: '/x/app.mjs',
      line: 2,
      column: 11,
      source: "  res.end('a'",
      caret: '          ^^^',
    });
    assert.equal(parseSyntaxHeader('SyntaxError: x\n    at y (node:internal/z:1:1)'), null);
    // The end of the input (a missing brace): no source line, no caret.
    assert.deepEqual(
      parseSyntaxHeader('/x/app.mjs:6\n\n\n\nSyntaxError: Unexpected end of input'),
      {
        file: '/x/app.mjs',
        line: 6,
        column: 0,
        source: '',
        caret: '',
      },
    );
  });

  it("keeps only the app's frames of a stack", () => {
    const stack = [
      'Error: boom',
      '    at connect (file:///srv/app/db.mjs:3:9)',
      '    at file:///srv/app/app.mjs:1:1',
      '    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)',
      // Node 24 names the loader's async frame without parentheses.
      '    at async node:internal/modules/esm/loader:647:26',
      '    at loadApp (file:///srv/node_modules/tsgun/dist/src/worker/load-app.js:80:5)',
    ].join('\n');
    const frames = appFrames(stack, '/srv/node_modules/tsgun/dist/src/');
    assert.deepEqual(frames, [
      'at connect (file:///srv/app/db.mjs:3:9)',
      'at file:///srv/app/app.mjs:1:1',
    ]);
    assert.equal(frameLocation(frames[0]!), '/srv/app/db.mjs:3:9');
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

describe('quickStopPlan', () => {
  const listening =
    (...sigs: string[]) =>
    (sig: string) =>
      sigs.includes(sig);
  it('an app without a stop handler of its own stops at once', () => {
    for (const received of ['SIGINT', 'SIGQUIT'] as const)
      for (const termed of [false, true])
        assert.deepEqual(quickStopPlan({ received, termed, listens: listening() }), {
          wait: false,
        });
  });
  it('a Ctrl-C (INT received) already ran the app INT handler: it is not given again', () => {
    assert.deepEqual(
      quickStopPlan({ received: 'SIGINT', termed: false, listens: listening('SIGINT', 'SIGTERM') }),
      { wait: true, emit: null },
    );
  });
  it("the master's QUIT gives the app SIGINT, or SIGTERM when that is the one it handles", () => {
    const quit = { received: 'SIGQUIT', termed: false } as const;
    assert.deepEqual(quickStopPlan({ ...quit, listens: listening('SIGINT', 'SIGTERM') }), {
      wait: true,
      emit: 'SIGINT',
    });
    assert.deepEqual(quickStopPlan({ ...quit, listens: listening('SIGTERM') }), {
      wait: true,
      emit: 'SIGTERM',
    });
    assert.deepEqual(quickStopPlan({ ...quit, listens: listening('SIGQUIT') }), {
      wait: true,
      emit: null,
    });
  });
  it('a worker draining after a TERM the app handled gets no second stop signal', () => {
    for (const received of ['SIGINT', 'SIGQUIT'] as const)
      assert.deepEqual(quickStopPlan({ received, termed: true, listens: listening('SIGTERM') }), {
        wait: true,
        emit: null,
      });
    // Nor does a Ctrl-C during a SIGTERM drain of an app handling only SIGINT need anything more.
    assert.deepEqual(
      quickStopPlan({ received: 'SIGINT', termed: true, listens: listening('SIGINT') }),
      { wait: true, emit: null },
    );
  });
});

describe('engine.io long-polling requests', () => {
  it('are told by EIO= and transport=polling, whatever the path', () => {
    assert.ok(isEnginePolling('/socket.io/?EIO=4&transport=polling&t=abc'));
    assert.ok(isEnginePolling('/ws/?transport=polling&EIO=3&sid=x'));
    assert.ok(!isEnginePolling('/socket.io/?EIO=4&transport=websocket'));
    assert.ok(!isEnginePolling('/?transport=polling'));
    assert.ok(!isEnginePolling(undefined));
  });
});
