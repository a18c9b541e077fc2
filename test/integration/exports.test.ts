import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { fixture, killAll, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

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

describe('an app that cannot load stops the server with one line and exit code 4', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a missing file',
      'test/fixtures/nope.mjs',
      /app module not found: test\/fixtures\/nope\.mjs .*\[TSGUN_ERR_APP_NOT_FOUND\]$/,
    ],
    [
      'a missing export',
      `${fixture('named.mjs')}:missing`,
      /export "missing" not found in .*named\.mjs \(it exports: app, other\) \[TSGUN_ERR_APP_EXPORT_MISSING\]$/,
    ],
    [
      'an export of the wrong type',
      fixture('wrong-type.mjs'),
      /is a number; expected a request listener.*\[TSGUN_ERR_APP_EXPORT_TYPE\]$/,
    ],
    [
      'a module that throws',
      fixture('throws.mjs'),
      /cannot load app module .*throws\.mjs: database unreachable at load time \[TSGUN_ERR_APP_LOAD\]$/,
    ],
    [
      'a syntax error',
      fixture('syntax-error.mjs'),
      /cannot load app module .*syntax-error\.mjs: .*\[TSGUN_ERR_APP_LOAD\]$/,
    ],
    [
      'calling what is not a function',
      `${fixture('wrong-type.mjs')}:default()`,
      /cannot call it \[TSGUN_ERR_APP_EXPORT_TYPE\]$/,
    ],
  ];
  for (const [name, app, expected] of cases) {
    it(name, async () => {
      const r = await runTsgun([app, '-b', '127.0.0.1:0', '-w', '2']);
      assert.equal(r.code, 4, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^tsgun: error: /);
      assert.match(lines[0]!, expected);
    });
  }
});
