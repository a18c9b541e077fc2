import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { clientLoop, getJson } from '../helpers/http.js';
import { fixture, killAll, Tsgun } from '../helpers/tsgun.js';

after(killAll);

// Each framework in its idiomatic listen() form, unchanged (devDependencies of this package).
describe('frameworks, run unchanged in their listen() form', () => {
  for (const [name, file] of [
    ['express', 'express.cjs'],
    ['fastify', 'fastify.cjs'],
    ['fastify-await', 'fastify-await.mjs'],
    ['koa', 'koa.cjs'],
    ['hono', 'hono.mjs'],
  ] as const) {
    it(`${name}: serves, survives 3 HUPs under load with 0 failed requests, stops gracefully`, async () => {
      const t = new Tsgun([fixture(`listen-forms/${file}`), '-b', '127.0.0.1:0', '-w', '2']);
      await t.waitForReady(2);
      const url = await t.url();
      const seen = await getJson<{ framework: string; pid: number }>(url);
      assert.equal(seen.framework, name);
      assert.ok(t.liveWorkerPids().includes(seen.pid));
      const load = clientLoop(url, { concurrency: 4 });
      for (let i = 0; i < 3; i++) await t.reload(20_000);
      const stats = await load.stop();
      assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join(', ')}`);
      assert.ok(stats.ok > 50, `too few requests to mean anything: ${stats.ok}`);
      t.signal('SIGTERM');
      assert.equal((await t.exited).code, 0);
      // Graceful: all 8 workers (2, then 2 per HUP) exited by themselves with 0, none killed.
      const exits = t.logs.filter((l) => l.msg === 'worker exited');
      assert.equal(exits.length, 8, JSON.stringify(exits));
      for (const e of exits) assert.deepEqual([e['code'], e['signal']], [0, null]);
    });
  }
});
