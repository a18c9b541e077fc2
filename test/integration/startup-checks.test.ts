import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasOpenssl, makeCert } from '../helpers/certs.js';
import { freePort, request } from '../helpers/http.js';
import { fixture, killAll, NOBODY, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

/**
 * A start that cannot hang or lie (issue 27): operator code that never settles, what
 * --check-config checks without starting, the bounds of -w and --timeout, addresses given twice,
 * worker-side variables inherited from the operator's shell.
 */

after(killAll);
const scratch = mkdtempSync(join(tmpdir(), 'tsgun-startup-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const app = fixture('app.mjs');

function file(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** tsgun exits `code` with exactly these plain lines on stderr (log lines aside). */
async function fails(args: string[], code: number, lines: (string | RegExp)[], env = {}) {
  const r = await runTsgun(args, { env });
  assert.equal(r.code, code, r.stderr);
  const got = plainLines(r.stderr);
  assert.equal(got.length, lines.length, r.stderr);
  for (const [i, want] of lines.entries()) {
    if (typeof want === 'string') assert.equal(got[i], want);
    else assert.match(got[i]!, want);
  }
}

describe('operator code that never settles stops the start with one line and exit 2', () => {
  const hang = file('hang.mjs', 'await new Promise(() => {});\nexport default { workers: 1 };\n');
  const asyncHang = file(
    'async-hang.mjs',
    'export default async () => { await new Promise(() => {}); return {}; };\n',
  );
  const hook = file(
    'hook-hang.cjs',
    'module.exports = { onStarting: () => new Promise(() => {}) };\n',
  );
  // Waiting on something that never comes (a timer that keeps the loop busy, a socket): only the
  // deadline can end these.
  const busy = file(
    'busy.mjs',
    'await new Promise(() => setInterval(() => {}, 1000));\nexport default {};\n',
  );
  const busyHook = file(
    'hook-busy.cjs',
    'module.exports = { onStarting: () => new Promise(() => setInterval(() => {}, 1000)) };\n',
  );

  it('a config file whose promise nothing can resolve: at once, not a silent exit 0', async () => {
    const port = await freePort();
    for (const path of [hang, asyncHang])
      for (const extra of [['--check-config'], ['-b', `127.0.0.1:${port}`]])
        await fails(['-c', path, app, ...extra], 2, [
          `tsgun: error: --config: ${path} did not settle and nothing is left that could settle it (a promise that is never resolved) [TSGUN_ERR_CONFIG_INVALID]`,
        ]);
    assert.ok(await canListen(port));
  });

  it('an onStarting hook whose promise nothing can resolve: at once, with the spare worker started', async () => {
    const port = await freePort();
    const started = Date.now();
    await fails(['-c', hook, app, '-b', `127.0.0.1:${port}`], 2, [
      'tsgun: error: onStarting hook did not settle and nothing is left that could settle it (a promise that is never resolved) [TSGUN_ERR_HOOK]',
    ]);
    // The spare (forked by bin/tsgun first) is discarded after 10 s: it must not be what ends it.
    assert.ok(Date.now() - started < 8_000, `took ${Date.now() - started} ms`);
    assert.ok(await canListen(port));
  });

  it('a config file that has not settled within --startup-timeout, before anything is bound', async () => {
    const port = await freePort();
    await fails(['-c', busy, app, '-b', `127.0.0.1:${port}`, '--startup-timeout', '0.5'], 2, [
      `tsgun: error: --config: ${busy} did not settle within --startup-timeout (0.5 s) [TSGUN_ERR_CONFIG_INVALID]`,
    ]);
    assert.ok(await canListen(port));
  });

  it('an onStarting hook that has not settled within --startup-timeout (from the environment)', async () => {
    const port = await freePort();
    await fails(
      ['-c', busyHook, app, '-b', `127.0.0.1:${port}`],
      2,
      [
        'tsgun: error: onStarting hook did not settle within --startup-timeout (0.5 s) [TSGUN_ERR_HOOK]',
      ],
      { TSGUN_STARTUP_TIMEOUT: '0.5' },
    );
    assert.ok(await canListen(port));
  });
});

describe('--check-config checks what a start would, creating nothing', () => {
  it('TLS files that do not parse or do not match', { skip: !hasOpenssl }, async () => {
    const a = makeCert(scratch, 'a');
    const b = makeCert(scratch, 'b');
    await fails(['--check-config', app, '--certfile', a.cert, '--keyfile', b.key], 2, [
      /^tsgun: error: --certfile\/--keyfile: .*key values mismatch .* \[TSGUN_ERR_TLS\]$/,
    ]);
    await fails(['--check-config', app, '--certfile', a.cert, '--keyfile', a.cert], 2, [
      /^tsgun: error: --certfile\/--keyfile: .* \[TSGUN_ERR_TLS\]$/,
    ]);
    const ok = await runTsgun(['--check-config', app, '--certfile', a.cert, '--keyfile', a.key]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('log files, pidfile and control socket where a start could not make them: one line each', async () => {
    const notDir = file('plain-file', '');
    const long = join(scratch, 'c'.repeat(120));
    const open = join(scratch, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await fails(
      [
        '--check-config',
        app,
        '--error-logfile',
        join(notDir, 'error.log'),
        '--access-logfile',
        scratch,
        '--pid',
        join(scratch, 'missing', 'app.pid'),
        '--control-socket',
        long,
        '-b',
        `unix:${join(open, 'app.sock')}`,
      ],
      2,
      [
        `tsgun: error: --error-logfile: cannot open ${join(notDir, 'error.log')}: ENOTDIR [TSGUN_ERR_LOGFILE]`,
        `tsgun: error: --access-logfile: cannot open ${scratch}: is a directory [TSGUN_ERR_LOGFILE]`,
        `tsgun: error: --pid: cannot write ${join(scratch, 'missing', 'app.pid')}: no such directory: ${join(scratch, 'missing')} [TSGUN_ERR_PIDFILE]`,
        `tsgun: error: --bind: cannot bind unix:${join(open, 'app.sock')}: ${open} is writable by every user and not sticky (chmod +t or o-w it) [TSGUN_ERR_BIND]`,
        `tsgun: error: --control-socket: cannot bind unix:${long}: the path is ${Buffer.byteLength(long)} bytes, a unix socket's may have at most 107 [TSGUN_ERR_CONTROL_SOCKET]`,
      ],
    );
  });

  it('paths a start could make are fine, and the check makes none of them', async () => {
    const logDir = join(scratch, 'logs', 'new');
    const pidDir = join(scratch, 'run');
    mkdirSync(pidDir);
    const r = await runTsgun([
      '--check-config',
      app,
      '--error-logfile',
      join(logDir, 'error.log'),
      '--pid',
      join(pidDir, 'app.pid'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'tsgun: config OK\n');
    assert.ok(!existsSync(join(scratch, 'logs')), 'no log directory made');
    assert.ok(!existsSync(join(pidDir, 'app.pid')) && !existsSync(join(pidDir, 'app.ctl')));
  });

  it('an IPv4 address with a number over 255 is refused for every command', async () => {
    const line =
      'tsgun: error: --bind: invalid IPv4 address in "256.256.256.256:80" (expected four numbers 0-255, e.g. 127.0.0.1) (from the command line) [TSGUN_ERR_CONFIG_INVALID]';
    for (const extra of [['--check-config'], ['--print-config'], []])
      await fails([...extra, app, '-b', '256.256.256.256:80'], 2, [line]);
  });
});

describe('bounds and spellings a start refuses as settings, not as a worker that cannot boot', () => {
  it('-w and WEB_CONCURRENCY: at most 1024', async () => {
    await fails([app, '-w', '1025'], 2, [
      'tsgun: error: --workers: expected an integer between 1 and 1024, got 1025 (from the command line) [TSGUN_ERR_CONFIG_INVALID]',
    ]);
    await fails(
      [app],
      2,
      [
        /^tsgun: error: --workers: expected an integer between 1 and 1024, got 100000 \(from its default's variable\) \[TSGUN_ERR_CONFIG_INVALID\]$/,
      ],
      { WEB_CONCURRENCY: '100000' },
    );
    const r = await runTsgun([app, '-w', '1024', '--print-config']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('--timeout below a second (the heartbeat could never arrive in time): refused; 0 is off', async () => {
    await fails([app, '-t', '0.001'], 2, [
      'tsgun: error: --timeout: expected 0 (off) or a number of seconds >= 1, got 0.001 (from the command line) [TSGUN_ERR_CONFIG_INVALID]',
    ]);
    const r = await runTsgun([app, '-t', '0', '--print-config']);
    assert.equal(r.code, 0, r.stderr);
  });

  it('the same address twice, in any spelling, or under a wildcard: refused before binding', async () => {
    const port = await freePort();
    const cases: [string[], string][] = [
      [
        ['-b', `127.0.0.1:${port}`, '-b', `127.0.0.1:${port}`],
        `"127.0.0.1:${port}" is given twice`,
      ],
      [
        ['-b', `:${port}`, '-b', `0.0.0.0:${port}`],
        `":${port}" and "0.0.0.0:${port}" are the same address`,
      ],
      [
        ['-b', `0.0.0.0:${port}`, '-b', `127.0.0.1:${port}`],
        `"0.0.0.0:${port}" takes port ${port} on every address, "127.0.0.1:${port}" included`,
      ],
    ];
    for (const [args, what] of cases)
      await fails([app, ...args], 2, [
        `tsgun: error: --bind: ${what}: each address is bound once (from the command line) [TSGUN_ERR_CONFIG_INVALID]`,
      ]);
    assert.ok(await canListen(port));
  });
});

describe('worker-side variables in the environment tsgun starts in', () => {
  it('TSGUN_WORKER_CHECK, TSGUN_RUN_AS, TSGUN_WORKER_ID change nothing: it serves, as its own user', async () => {
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2'], {
      env: {
        TSGUN_WORKER_CHECK: '1',
        TSGUN_WORKER_ID: 'x',
        TSGUN_RUN_AS: JSON.stringify({ uid: NOBODY, gid: NOBODY, name: null }),
      },
    });
    await t.waitForReady(2);
    // The spare (forked before the master read anything) got none of them either, so it was used.
    const boot = await t.waitForLog((l) => l.msg === 'booting worker');
    assert.match(String(boot['spare']), /^yes/);
    const r = await request(await t.url());
    assert.equal(r.status, 200);
    const { pid } = JSON.parse(r.body) as { pid: number };
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    assert.equal(Number(uid), process.getuid?.());
    t.kill();
  });
});
