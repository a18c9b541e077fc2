import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freePort, request } from '../helpers/http.js';
import { killAll, startApp } from '../helpers/tsgun.js';

after(killAll);

describe('deployment', () => {
  it('--shutdown-delay: /readyz turns 503 at once and the app keeps serving, then it stops', async () => {
    const port = await freePort();
    const t = startApp('--stats', `127.0.0.1:${port}`, '--shutdown-delay', '1');
    await t.waitForReady(1);
    const url = await t.url();
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg.startsWith('TERM: not ready any more'));
    assert.equal((await request(`http://127.0.0.1:${port}/readyz`)).status, 503);
    assert.equal((await request(url)).status, 200, 'still serving during the delay');
    const stopping = await t.waitForLog((l) => l.msg === 'stopping gracefully');
    const term = t.logs.find((l) => l.msg.startsWith('TERM: not ready any more'))!;
    assert.ok(Date.parse(String(stopping['time'])) - Date.parse(String(term['time'])) >= 900);
    assert.equal((await t.exited).code, 0);
  });

  it('a second TERM during the delay stops at once', async () => {
    const t = startApp('--shutdown-delay', '30');
    await t.waitForReady(1);
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg.startsWith('TERM: not ready any more'));
    t.signal('SIGTERM');
    await t.waitForLog((l) => l.msg === 'stopping now');
    assert.equal((await t.exited).code, 0);
  });

  it('-w auto derives the count from the CPU budget and logs how', async () => {
    const t = startApp('-w', 'auto');
    const line = await t.waitForLog((l) => l.msg.startsWith('-w auto:'));
    const workers = line['workers'] as number;
    assert.ok(workers >= 1);
    assert.equal(typeof line['how'], 'string');
    await t.waitForReady(workers);
    t.kill();
  });
});
