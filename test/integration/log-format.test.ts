import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { fixture, inTerminal, killAll, runTsgun } from '../helpers/tsgun.js';

after(killAll);

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** What a person reads: no colour codes, no carriage returns from the terminal. */
const plain = (text: string) =>
  text
    .replace(ANSI, '')
    .replace(/\r/g, '')
    .split('\n')
    .filter((l) => l !== '');

/** The master under `script` leads its own session and group: stop it and its workers. */
const masters: number[] = [];
after(() => {
  for (const pid of masters) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

const TIME = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}';

describe('--log-format', () => {
  it('on a terminal (auto): one readable line per record; the access log is unchanged', async () => {
    const term = inTerminal([fixture('app.mjs'), '-b', '127.0.0.1:0', '--access-logfile', '-']);
    const started = await term.waitFor(/listening at: (http:\/\/127\.0\.0\.1:\d+) \((\d+)\)/);
    const [, url, pid] = /listening at: (http:\/\/127\.0\.0\.1:\d+) \((\d+)\)/.exec(started)!;
    masters.push(Number(pid));
    await term.waitFor(/worker ready \(worker 1, pid \d+\)/);
    assert.equal((await request(`${url}/hello`)).status, 200);
    await term.waitFor(/"GET \/hello HTTP\/1\.1" 200/);
    const lines = plain(term.output());
    assert.ok(
      lines.some((l) => new RegExp(`^${TIME} INFO +\\[master ${pid}\\] starting tsgun`).test(l)),
      lines.join('\n'),
    );
    assert.deepEqual(
      lines.filter((l) => l.startsWith('{')),
      [],
      'no JSON on a terminal',
    );
    const access = lines.find((l) => l.includes('GET /hello'))!;
    assert.match(access, /^127\.0\.0\.1 - - \[.+\] "GET \/hello HTTP\/1\.1" 200 /);
    process.kill(Number(pid), 'SIGTERM');
    await term.waitFor(/shutdown complete/);
  });

  it('json on a terminal when asked', async () => {
    const term = inTerminal([fixture('app.mjs'), '-b', '127.0.0.1:0', '--log-format', 'json']);
    const text = await term.waitFor(/"msg":"worker ready"/);
    const first = plain(text)[0]!;
    const record = JSON.parse(first) as { pid: number; msg: string };
    masters.push(record.pid);
    assert.match(record.msg, /^starting tsgun /);
    process.kill(record.pid, 'SIGTERM');
    await term.waitFor(/"msg":"shutdown complete"/);
  });

  it('pretty through a pipe when asked: a load error reads as a person would want it', async () => {
    const r = await runTsgun([
      fixture('syntax-error.mjs'),
      '-b',
      '127.0.0.1:0',
      '--log-format',
      'pretty',
    ]);
    assert.equal(r.code, 4);
    const lines = plain(r.stderr);
    const at = lines.findIndex((l) => / ERROR +\[worker 1 \d+\] cannot load app module/.test(l));
    assert.ok(at >= 0, r.stderr);
    assert.match(
      lines[at]!,
      /\(at test\/fixtures\/syntax-error\.mjs:2:11\) \[TSGUN_ERR_APP_LOAD\]$/,
    );
    assert.equal(lines[at + 1], "      2 |   res.end('missing brace'");
    assert.equal(lines[at + 2], '        |           ^^^^^^^^^^^^^^^');
    assert.equal(lines.filter((l) => l.startsWith('{')).length, 0);
  });
});
