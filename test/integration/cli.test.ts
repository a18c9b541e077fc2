import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { fixture, killAll, plainLines, ROOT, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

const version = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string })
  .version;

describe('the command line', () => {
  it('--version prints the package version', async () => {
    const r = await runTsgun(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), version);
  });

  it('--help groups the settings by section', async () => {
    const r = await runTsgun(['--help']);
    assert.equal(r.code, 0);
    for (const heading of ['Server socket:', 'Worker processes:', 'Security:', 'Logging:']) {
      assert.ok(r.stdout.includes(heading), `missing ${heading}`);
    }
    assert.match(r.stdout, /--backlog <INT>\s+Listen queue length/);
  });

  it('--print-config shows each value and where it came from (file < env < TSGUN_CMD_ARGS < CLI)', async () => {
    const r = await runTsgun(
      ['--print-config', '-c', fixture('config.json'), '-w', '5', 'app.mjs'],
      {
        env: { TSGUN_BACKLOG: '77', TSGUN_CMD_ARGS: '--keep-alive 9 --workers 4', PORT: '' },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Record<string, { value: unknown; source: string }>;
    assert.deepEqual(printed['workers'], { value: 5, source: 'cli' });
    assert.deepEqual(printed['keepAlive'], { value: 9, source: 'TSGUN_CMD_ARGS' });
    assert.deepEqual(printed['backlog'], { value: 77, source: 'env' });
    assert.deepEqual(printed['timeout'], { value: 12, source: 'file' });
    assert.deepEqual(printed['gracefulTimeout'], { value: 30, source: 'default' });
    assert.deepEqual(printed['bind'], { value: ['127.0.0.1:8000'], source: 'default' });
  });

  it('PORT and WEB_CONCURRENCY set the defaults', async () => {
    const r = await runTsgun(['--print-config', 'app.mjs'], {
      env: { PORT: '9123', WEB_CONCURRENCY: '3' },
    });
    const printed = JSON.parse(r.stdout) as Record<string, { value: unknown }>;
    assert.deepEqual(printed['bind']!.value, ['0.0.0.0:9123']);
    assert.equal(printed['workers']!.value, 3);
  });

  const bad: [string, string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      'a bad flag value',
      ['-w', 'many', 'app.mjs'],
      {},
      /^tsgun: error: --workers: expected an integer, got "many" \(from the command line\) \[TSGUN_ERR_CONFIG_INVALID\]$/,
    ],
    [
      'zero workers',
      ['-w', '0', 'app.mjs'],
      {},
      /--workers: expected an integer between 1 and 1024, got 0/,
    ],
    [
      'a bad address',
      ['-b', '127.0.0.1:99999', 'app.mjs'],
      {},
      /--bind: invalid port in "127\.0\.0\.1:99999"/,
    ],
    [
      'an unknown flag',
      ['--wokers', '2', 'app.mjs'],
      {},
      /unknown option '--wokers' \(did you mean --workers\?\).*\[TSGUN_ERR_CONFIG_UNKNOWN_KEY\]/,
    ],
    [
      'a bad environment value',
      ['app.mjs'],
      { TSGUN_TIMEOUT: 'soon' },
      /--timeout: expected a number of seconds, got "soon" \(from TSGUN_TIMEOUT\)/,
    ],
    [
      'an unfinished quote in TSGUN_CMD_ARGS',
      ['app.mjs'],
      { TSGUN_CMD_ARGS: '--access-logformat "%(h)s' },
      /^tsgun: error: TSGUN_CMD_ARGS: unterminated double quote at character 20 in .*\[TSGUN_ERR_CONFIG_INVALID\]$/,
    ],
    [
      'a bad WEB_CONCURRENCY',
      ['app.mjs'],
      { WEB_CONCURRENCY: 'lots' },
      /--workers: expected an integer, got "lots"/,
    ],
    [
      'an unknown config key',
      ['-c', fixture('config-typo.json'), 'app.mjs'],
      {},
      /unknown setting "worker" in .*config-typo\.json \(did you mean workers\?\)/,
    ],
    ['no app', [], {}, /APP: missing/],
    [
      "Node's --port",
      ['app.mjs', '--port', '3000'],
      {},
      /^tsgun: error: unknown option '--port': tsgun binds with -b \(--bind\): use -b :3000 \[TSGUN_ERR_CONFIG_UNKNOWN_KEY\]$/,
    ],
    // PM2's words: tsgun's way of doing it, never "app module not found: logs".
    ['pm2 logs', ['logs'], {}, /^tsgun: error: tsgun logs: tsgun keeps no log store: .*journalctl/],
    ['pm2 list', ['list'], {}, /^tsgun: error: tsgun list: use tsgun status/],
    [
      'pm2 restart',
      ['restart'],
      {},
      /^tsgun: error: tsgun restart: use tsgun reload: a rolling restart/,
    ],
    ['pm2 monit', ['monit'], {}, /^tsgun: error: tsgun monit: use tsgun top ADDR/],
    ['pm2 delete', ['delete', 'all'], {}, /^tsgun: error: tsgun delete: use tsgun stop/],
    [
      'pm2 start without a file',
      ['start'],
      {},
      /^tsgun: error: tsgun start: name the app to run: tsgun start app\.js .*\[TSGUN_ERR_UNKNOWN_COMMAND\]$/,
    ],
    [
      'a bad log level',
      ['--log-level', 'loud', 'app.mjs'],
      {},
      /--log-level: expected one of debug, info, warning, error, critical, got "loud"/,
    ],
  ];
  for (const [name, args, env, expected] of bad) {
    it(`rejects ${name} with one line and exit code 2`, async () => {
      const r = await runTsgun(args, { env });
      assert.equal(r.code, 2, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, expected);
    });
  }

  it('TSGUN_CMD_ARGS is split like a shell: quotes and backslashes', async () => {
    const r = await runTsgun(['--print-config', 'app.mjs'], {
      env: { TSGUN_CMD_ARGS: `--access-logformat "%(h)s %(r)s" --env 'A=b c' --env D=e\\ f` },
    });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout) as Record<string, { value: unknown }>;
    assert.equal(printed['accessLogformat']!.value, '%(h)s %(r)s');
    assert.deepEqual(printed['env']!.value, ['A=b c', 'D=e f']);
  });

  it('unknown TSGUN_* variables (Kubernetes service links, typos) warn once and never stop the start', async () => {
    const k8s = {
      TSGUN_SERVICE_HOST: '10.0.0.1',
      TSGUN_SERVICE_PORT: '8000',
      TSGUN_PORT: 'tcp://10.0.0.1:8000',
      TSGUN_PORT_8000_TCP: 'tcp://10.0.0.1:8000',
      TSGUN_PORT_8000_TCP_ADDR: '10.0.0.1',
      TSGUN_PORT_8000_TCP_PORT: '8000',
      TSGUN_PORT_8000_TCP_PROTO: 'tcp',
      TSGUN_WORKRS: '2',
    };
    const served = new Tsgun([fixture('app.mjs'), '-b', '127.0.0.1:0'], { env: k8s });
    await served.waitForReady(1);
    const warnings = served.logs.filter((l) => l.level === 40).map((l) => l.msg);
    assert.deepEqual(warnings, [
      'ignoring unknown environment variable TSGUN_WORKRS (did you mean TSGUN_WORKERS?)',
      'ignoring TSGUN_PORT, TSGUN_PORT_8000_TCP, TSGUN_PORT_8000_TCP_ADDR, TSGUN_PORT_8000_TCP_PORT, TSGUN_PORT_8000_TCP_PROTO, TSGUN_SERVICE_HOST, TSGUN_SERVICE_PORT: Kubernetes service-link variables of a Service named tsgun, not tsgun settings (enableServiceLinks: false in the pod spec drops them)',
    ]);
    assert.equal((await request(await served.url())).status, 200);
    // A HUP re-reads the environment without repeating the warnings.
    await served.reload();
    assert.equal(served.logs.filter((l) => l.level === 40).length, 2);
    served.kill();
    // A known variable with a bad value still stops the start, next to the foreign ones.
    const bad = await runTsgun(['app.mjs'], { env: { ...k8s, TSGUN_BACKLOG: 'lots' } });
    assert.equal(bad.code, 2);
    assert.match(
      plainLines(bad.stderr).join('\n'),
      /^tsgun: error: --backlog: .*"lots" \(from TSGUN_BACKLOG\)/,
    );
    assert.equal(plainLines(bad.stderr).length, 1, bad.stderr);
  });

  it('--check-config loads the app and says OK, or names the problem', async () => {
    const ok = await runTsgun(['--check-config', fixture('app.mjs')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /config OK/);
    const broken = await runTsgun(['--check-config', fixture('throws.mjs')]);
    assert.equal(broken.code, 4);
    assert.match(plainLines(broken.stderr)[0]!, /database unreachable/);
  });

  it("PM2's `start APP` runs the app (the word is dropped)", async () => {
    const r = await runTsgun(['start', fixture('app.mjs'), '--check-config']);
    assert.deepEqual([r.code, plainLines(r.stdout)], [0, ['tsgun: config OK']], r.stderr);
  });

  it('--chdir resolves the app from another directory', async () => {
    const r = await runTsgun(['--check-config', '--chdir', `${ROOT}test/fixtures`, 'app.mjs']);
    assert.equal(r.code, 0, r.stderr);
    const missing = await runTsgun(['--chdir', '/nonexistent-dir', 'app.mjs']);
    assert.equal(missing.code, 2);
    assert.match(plainLines(missing.stderr)[0]!, /--chdir: no such directory: \/nonexistent-dir/);
  });
});

describe('the shipped examples', () => {
  it('the production config checks out, once its runtime directory exists', async () => {
    const config = ['--check-config', '-c', 'examples/production/tsgun.config.mjs'];
    // /run/tsgun is systemd's RuntimeDirectory=: a start without it would fail, so the check does.
    if (!existsSync('/run/tsgun')) {
      const r = await runTsgun(config);
      assert.equal(r.code, 2, r.stderr);
      assert.deepEqual(plainLines(r.stderr), [
        'tsgun: error: --pid: cannot write /run/tsgun/tsgun.pid: no such directory: /run/tsgun [TSGUN_ERR_PIDFILE]',
        'tsgun: error: --bind: cannot bind unix:/run/tsgun/app.sock: no such directory: /run/tsgun [TSGUN_ERR_BIND]',
        'tsgun: error: --control-socket: cannot bind unix:/run/tsgun/tsgun.ctl: no such directory: /run/tsgun [TSGUN_ERR_CONTROL_SOCKET]',
      ]);
    }
    const run = mkdtempSync(join(tmpdir(), 'tsgun-run-'));
    try {
      const r = await runTsgun([
        ...config,
        '--pid',
        join(run, 'tsgun.pid'),
        '-b',
        `unix:${join(run, 'app.sock')}`,
        '-b',
        '127.0.0.1:8000',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /config OK/);
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });
});
