import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { fixture, killAll, type LogLine, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

async function serveOnce(app: string, opts: { method?: string; body?: string } = {}) {
  const t = new Tsgun([app, '-b', '127.0.0.1:0']);
  try {
    await t.waitForReady(1);
    const reply = await request(`${await t.url()}/echo`, opts);
    return { reply, json: JSON.parse(reply.body) as Record<string, unknown>, master: t.pid };
  } finally {
    t.kill();
  }
}

describe('the four export forms', () => {
  it('a request listener (ESM default export)', async () => {
    const { reply, json, master } = await serveOnce(fixture('app.mjs'));
    assert.equal(reply.status, 200);
    assert.notEqual(json['pid'], master);
  });

  it('a request listener as module.exports (CommonJS)', async () => {
    assert.equal((await serveOnce(fixture('listener.cjs'))).json['form'], 'cjs-listener');
  });

  it('an export named app when there is no default', async () => {
    assert.equal((await serveOnce(fixture('named.mjs'))).json['form'], 'named-app');
  });

  it('a named export with module:name', async () => {
    assert.equal((await serveOnce(`${fixture('named.mjs')}:other`)).json['form'], 'other');
  });

  it('an http.Server that is not listening', async () => {
    const { reply, json } = await serveOnce(fixture('server-export.mjs'));
    assert.equal(json['form'], 'server');
    assert.equal(reply.headers['x-form'], 'server');
  });

  it('an object with fetch(Request), request body included', async () => {
    const { reply, json } = await serveOnce(fixture('fetch-app.mjs'), {
      method: 'POST',
      body: 'ping',
    });
    assert.equal(reply.headers['x-form'], 'fetch');
    assert.deepEqual([json['form'], json['path'], json['echo']], ['fetch', '/echo', 'ping']);
  });

  it('an async factory written module:createApp()', async () => {
    assert.equal(
      (await serveOnce(`${fixture('factory.cjs')}:createApp()`)).json['form'],
      'factory',
    );
  });
});

describe('an app that cannot load stops the server, says why, and exits 4', () => {
  // [name, APP, the message, its code]: the message is in one log record (the worker's, with the
  // details) and in the last line, the one plain line a person reads.
  const cases: [string, string, RegExp, string][] = [
    [
      'a missing file',
      'test/fixtures/nope.mjs',
      /app module not found: test\/fixtures\/nope\.mjs /,
      'TSGUN_ERR_APP_NOT_FOUND',
    ],
    [
      'a missing export',
      `${fixture('named.mjs')}:missing`,
      /export \\?"missing\\?" not found in .*named\.mjs \(it exports: app, other\)/,
      'TSGUN_ERR_APP_EXPORT_MISSING',
    ],
    [
      'an export of the wrong type',
      fixture('wrong-type.mjs'),
      /the default export of .*wrong-type\.mjs is a number \(42\), not an app: export a request listener, an http\.Server, a Fastify, Koa, Express or Hono app/,
      'TSGUN_ERR_APP_EXPORT_TYPE',
    ],
    [
      'a module that throws',
      fixture('throws.mjs'),
      /cannot load app module .*throws\.mjs: database unreachable at load time \(at test\/fixtures\/throws\.mjs:1:7\)/,
      'TSGUN_ERR_APP_LOAD',
    ],
    [
      'a syntax error',
      fixture('syntax-error.mjs'),
      /cannot load app module .*syntax-error\.mjs: SyntaxError: .* \(at test\/fixtures\/syntax-error\.mjs:2:11\)/,
      'TSGUN_ERR_APP_LOAD',
    ],
    [
      'calling what is not a function',
      `${fixture('wrong-type.mjs')}:default()`,
      /cannot call it/,
      'TSGUN_ERR_APP_EXPORT_TYPE',
    ],
  ];
  for (const [name, app, message, code] of cases) {
    it(name, async () => {
      const r = await runTsgun([app, '-b', '127.0.0.1:0']);
      assert.equal(r.code, 4, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`^tsgun: error: .*\\[${code}\\]$`));
      assert.match(lines[0]!.replaceAll('"', '\\"'), message, 'the last line says the cause');
      const told = r.stderr
        .split('\n')
        .filter((l) => l.includes('"role":"worker"') && message.test(l));
      assert.ok(told.length <= 1, `one worker record at most:\n${r.stderr}`);
    });
  }
});

/** The worker's record of a failed load: the one place the error is told in full. */
async function loadFailure(app: string): Promise<{ record: LogLine; stderr: string }> {
  const t = new Tsgun([app, '-b', '127.0.0.1:0']);
  const record = await t.waitForLog(
    (l) => l.role === 'worker' && l['code'] === 'TSGUN_ERR_APP_LOAD',
  );
  assert.equal((await t.exited).code, 4);
  return { record, stderr: t.stderrText };
}

describe('load errors point at the line', () => {
  it('an ES module syntax error: file:line:column, the source line and a caret', async () => {
    const { record, stderr } = await loadFailure(fixture('syntax-error.mjs'));
    assert.match(record.msg, /\(at test\/fixtures\/syntax-error\.mjs:2:11\)$/);
    assert.equal(
      record['detail'],
      "  2 |   res.end('missing brace'\n    |           ^^^^^^^^^^^^^^^",
    );
    const halt = plainLines(stderr)[0]!;
    assert.match(
      halt,
      /could not boot: cannot load app module .*syntax-error\.mjs: SyntaxError: .* \(at test\/fixtures\/syntax-error\.mjs:2:11\) \(details in its record above\) \[TSGUN_ERR_APP_LOAD\]$/,
    );
  });

  it('a CommonJS syntax error', async () => {
    const { record } = await loadFailure(fixture('syntax-error.cjs'));
    assert.match(record.msg, /SyntaxError: .*\(at test\/fixtures\/syntax-error\.cjs:3:\d+\)$/);
    assert.match(String(record['detail']), /^ {2}3 \| {3}const reply = \{ ok: true;\n {4}\| +\^/);
  });

  for (const ext of ['mjs', 'cjs']) {
    it(`a missing brace at the end of a file (.${ext}): the file, the line after its last, and the last line says so`, async () => {
      const { record, stderr } = await loadFailure(fixture(`missing-brace.${ext}`));
      const at = `\\(at test\\/fixtures\\/missing-brace\\.${ext}:6, the end of the file: a bracket or quote is not closed\\)`;
      assert.match(record.msg, new RegExp(`SyntaxError: Unexpected end of input ${at}$`));
      assert.match(plainLines(stderr)[0]!, new RegExp(`could not boot: .*${at} \\(details`));
    });
  }

  it("a thrown error: where, the line, and only the app's frames of the stack", async () => {
    const { record } = await loadFailure(fixture('throws.mjs'));
    const detail = String(record['detail']);
    assert.match(
      detail,
      /^ {2}1 \| throw new Error\('database unreachable at load time'\);\n {4}\| {7}\^\n/,
    );
    assert.match(detail, /at file:\/\/.*test\/fixtures\/throws\.mjs:1:7$/);
    assert.doesNotMatch(detail, /node:internal|dist\/src/);
  });
});
