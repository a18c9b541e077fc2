import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fixture, plainLines, ROOT, runTsgun } from '../helpers/tsgun.js';

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
    ['zero workers', ['-w', '0', 'app.mjs'], {}, /--workers: expected an integer >= 1, got 0/],
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
      'an unknown TSGUN_ variable',
      ['app.mjs'],
      { TSGUN_WORKRS: '2' },
      /unknown environment variable TSGUN_WORKRS \(did you mean TSGUN_WORKERS\?\)/,
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

  it('--check-config loads the app and says OK, or names the problem', async () => {
    const ok = await runTsgun(['--check-config', fixture('app.mjs')]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /config OK/);
    const broken = await runTsgun(['--check-config', fixture('throws.mjs')]);
    assert.equal(broken.code, 4);
    assert.match(plainLines(broken.stderr)[0]!, /database unreachable/);
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
  it('the production config checks out', async () => {
    const r = await runTsgun(['--check-config', '-c', 'examples/production/tsgun.config.mjs']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /config OK/);
  });
});
