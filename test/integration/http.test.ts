import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { rawRequest, request } from '../helpers/http.js';
import { killAll, startApp } from '../helpers/tsgun.js';

after(killAll);

describe('per-request behaviour', () => {
  it("writes the access log to stdout in Gunicorn's default format", async () => {
    const t = startApp('--access-logfile', '-');
    await t.waitForReady(1);
    await request(`${await t.url()}/path?q=1`, {
      headers: { 'user-agent': 'test-agent', referer: 'http://ref/' },
    });
    t.signal('SIGTERM'); // flushes the buffered access log
    await t.exited;
    assert.match(
      t.stdoutText,
      /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET \/path\?q=1 HTTP\/1\.1" 200 \d+ "http:\/\/ref\/" "test-agent"\n$/,
    );
  });

  it('enforces --limit-request-line (414) and --limit-request-fields (431)', async () => {
    const t = startApp('--limit-request-line', '64', '--limit-request-fields', '3');
    await t.waitForReady(1);
    const url = await t.url();
    assert.equal((await request(`${url}/short`)).status, 200);
    assert.equal((await request(`${url}/${'x'.repeat(80)}`)).status, 414);
    const headers = { a: '1', b: '2', c: '3', d: '4' };
    assert.equal((await request(url, { headers })).status, 431);
    t.kill();
  });

  it('--keep-alive 0 closes every connection after its response', async () => {
    const t = startApp('--keep-alive', '0');
    await t.waitForReady(1);
    const r = await rawRequest(await t.port(), 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(r.error, null);
    assert.match(r.data, /\r\nConnection: close\r\n/i);
    t.kill();
  });
});
