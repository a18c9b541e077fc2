import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { getJson } from '../helpers/http.js';
import { fixture, killAll, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** Serve APP with 2 workers and GET /: the framework's own router answers. */
async function serve(app: string): Promise<{ form: unknown; pid: unknown; master: number }> {
  const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2']);
  try {
    await t.waitForReady(2);
    const body = await getJson<{ form: unknown; pid: unknown }>(await t.url());
    return { ...body, master: t.pid };
  } finally {
    t.kill();
  }
}

describe('every common app form is recognised', () => {
  const cases: [string, string, string][] = [
    ['a Fastify instance (default export)', 'frameworks/fastify.mjs', 'fastify'],
    ['a Koa app (module.exports)', 'frameworks/koa.cjs', 'koa'],
    ['an Express 5 app (export named app)', 'frameworks/express.mjs', 'express'],
    ['a Hono app (default export, fetch)', 'frameworks/hono.mjs', 'hono'],
    ['an async factory returning Fastify', 'frameworks/factory.mjs:buildApp()', 'fastify-factory'],
  ];
  for (const [name, app, form] of cases) {
    it(name, async () => {
      const reply = await serve(fixture(app));
      assert.equal(reply.form, form);
      assert.notEqual(reply.pid, reply.master, 'served by a worker');
    });
  }

  it('an export that is not an app names it and the APP to write, in one line', async () => {
    const r = await runTsgun([fixture('frameworks/factory.mjs'), '-b', '127.0.0.1:0']);
    assert.equal(r.code, 4, r.stderr);
    const record = r.stderr.split('\n').find((l) => l.includes('TSGUN_ERR_APP_EXPORT_TYPE'))!;
    const msg = (JSON.parse(record) as { msg: string }).msg;
    assert.match(
      msg,
      /^the default export of .*factory\.mjs is an object with keys name, port, not an app: write .*factory\.mjs:buildApp\(\) to call the factory buildApp$/,
    );
    assert.equal(plainLines(r.stderr).length, 1, r.stderr);
  });
});
