import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rawRequest, request } from '../helpers/http.js';
import { killAll, plainLines, runTsgun, startApp, waitForFile } from '../helpers/tsgun.js';

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

describe('access log formats and reopening', () => {
  it('--access-logformat with header atoms, and --access-log-json', async () => {
    const t = startApp(
      '--access-logfile',
      '-',
      '--access-logformat',
      '%(m)s %(U)s %(q)s %(s)s %({x-trace}i)s %(p)s',
    );
    await t.waitForReady(1);
    await request(`${await t.url()}/p?a=1`, { headers: { 'x-trace': 'abc' } });
    t.signal('SIGTERM');
    await t.exited;
    assert.match(t.stdoutText, /^GET \/p a=1 200 abc <\d+>\n$/);

    const j = startApp('--access-logfile', '-', '--access-log-json');
    await j.waitForReady(1);
    await request(`${await j.url()}/q`);
    j.signal('SIGTERM');
    await j.exited;
    const entry = JSON.parse(j.stdoutText) as Record<string, unknown>;
    assert.equal(entry['path'], '/q');
    assert.equal(entry['status'], 200);
    assert.equal(typeof entry['duration_ms'], 'number');
  });

  it('rejects an unknown atom at start', async () => {
    const r = await runTsgun(['app.mjs', '--access-logformat', '%(zz)s']);
    assert.equal(r.code, 2);
    assert.match(plainLines(r.stderr)[0]!, /--access-logformat: unknown atom %\(zz\)s/);
  });

  it('USR1 reopens the log files after logrotate moved them, losing no line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgun-'));
    const access = join(dir, 'access.log');
    const errors = join(dir, 'error.log');
    const t = startApp('--access-logfile', access, '--error-logfile', errors);
    // The error log is a file now: wait for the worker's readiness in it.
    await waitForFile(errors, (s) => s.includes('"worker ready"'));
    const url = new URL(/"address":"([^"]+)"/.exec(readFileSync(errors, 'utf8'))![1]!).href;
    for (let i = 0; i < 3; i++) await request(url);
    await waitForFile(access, (s) => s.split('\n').length === 4);
    renameSync(access, `${access}.1`);
    renameSync(errors, `${errors}.1`);
    t.signal('SIGUSR1');
    await waitForFile(errors, (s) => s.includes('reopened log files'));
    for (let i = 0; i < 3; i++) await request(url);
    await waitForFile(access, (s) => s.split('\n').length === 4);
    assert.equal(readFileSync(`${access}.1`, 'utf8').trim().split('\n').length, 3);
    t.kill();
  });
});
