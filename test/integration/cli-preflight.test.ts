import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../helpers/http.js';
import { fixture, killAll, plainLines, ROOT, runTsgun, startApp, Tsgun } from '../helpers/tsgun.js';

after(killAll);

const version = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { version: string })
  .version;
const scratch = mkdtempSync(join(tmpdir(), 'tsgun-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** JSON log lines on stderr: a master that started would have written some. */
const logLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{'));

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
      .once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('the command line checks before it binds', () => {
  it('help and version are words, not app names', async () => {
    const help = await runTsgun(['help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: tsgun \[options\] APP/);
    assert.match(
      help.stdout,
      /Commands \(each has its own --help[^\n]*:\n[\s\S]*\n\s+tsgun stats \[ADDR\] \[--json\]/,
    );
    assert.match(help.stdout, /tsgun top \[ADDR\]/);
    assert.equal(logLines(help.stderr).length, 0, 'nothing started');
    const version_ = await runTsgun(['version']);
    assert.equal(version_.code, 0);
    assert.equal(version_.stdout.trim(), version);
    const topic = await runTsgun(['help', 'stats']);
    assert.match(topic.stdout, /^Usage: tsgun stats \[options\] \[ADDR\][\s\S]*--json/);
  });

  it('--help lists the commands, stats and top among them', async () => {
    const r = await runTsgun(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Commands[^\n]*:[\s\S]*tsgun status[\s\S]*tsgun stats[\s\S]*tsgun top/);
  });

  it('a missing app file is reported before any port is bound or worker forked', async () => {
    const port = await freePort();
    const r = await runTsgun(['no-such-app.js', '-b', `127.0.0.1:${port}`]);
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(plainLines(r.stderr), [
      `tsgun: error: app module not found: no-such-app.js (looked in ${ROOT.replace(/\/$/, '')}) [TSGUN_ERR_APP_NOT_FOUND]`,
    ]);
    assert.equal(logLines(r.stderr).length, 0, `no listening/booting lines:\n${r.stderr}`);
    assert.ok(await canListen(port), 'the port is free');
  });

  it('PM2 and Gunicorn spellings get the tsgun one', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['-i', '4'],
        /unknown option '-i': tsgun spells PM2's -i 4 as -w 4 \[TSGUN_ERR_CONFIG_UNKNOWN_KEY\]$/,
      ],
      [['-i', 'max'], /as -w auto /],
      [['--watch'], /unknown option '--watch': use --reload /],
      [
        ['-w', 'max'],
        /--workers: expected an integer or auto, got "max": use -w auto .*\[TSGUN_ERR_CONFIG_INVALID\]$/,
      ],
    ];
    for (const [args, expected] of cases) {
      const r = await runTsgun([fixture('app.mjs'), ...args]);
      assert.equal(r.code, 2, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, expected);
    }
  });

  it("a config file's PM2 spellings and numbers for addresses get the CLI's hints, naming the file and key", async () => {
    const cases: [string, string, RegExp[]][] = [
      [
        'hints.json',
        JSON.stringify({ workers: 'max', bind: 8080, instances: 2, watch: true }),
        [
          /^--workers: expected an integer, got "max" \(from \S+hints\.json, key "workers"\): use workers: 'auto' /,
          /^--bind: .* \(from \S+hints\.json, key "bind"\): use bind: ':8080' /,
          /^unknown setting "instances" in \S+hints\.json: tsgun spells PM2's instances as workers: use workers: 2$/,
          /^unknown setting "watch" in \S+hints\.json: use reload: true /,
        ],
      ],
      [
        'hints.mjs',
        "export default { workers: 'max', bind: [8080] };\n",
        [/key "workers"\): use workers: 'auto' /, /key "bind"\): use bind: \[':8080'\] /],
      ],
    ];
    for (const [name, text, expected] of cases) {
      writeFileSync(join(scratch, name), text);
      const r = await runTsgun([fixture('app.mjs'), '-c', join(scratch, name), '--check-config']);
      assert.equal(r.code, 2, r.stderr);
      const lines = plainLines(r.stderr).map((l) =>
        l.replace(/^tsgun: error: |^\s+| \[TSGUN_ERR_\w+\]$/g, ''),
      );
      for (const re of expected)
        assert.ok(
          lines.some((l) => re.test(l)),
          `${re} in:\n${r.stderr}`,
        );
    }
  });

  it('a config file with a syntax error names its line and column (JSON and ES module)', async () => {
    const cases: [string, string, RegExp][] = [
      ['broken.json', '{\n  "workers": 2,\n}\n', /broken\.json: .* \(at \S+broken\.json:3:1\)/],
      [
        'broken.mjs',
        "export default {\n  workers: 2\n  bind: ':0',\n};\n",
        /\(at \S+broken\.mjs:3:3\)/,
      ],
    ];
    for (const [name, text, expected] of cases) {
      writeFileSync(join(scratch, name), text);
      const r = await runTsgun([fixture('app.mjs'), '-c', join(scratch, name), '--check-config']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(plainLines(r.stderr).join('\n'), expected);
    }
  });

  it('names a config file picked up from the current directory', async () => {
    const dir = mkdtempSync(join(scratch, 'cfg-'));
    writeFileSync(join(dir, 'tsgun.config.json'), JSON.stringify({ bind: ['127.0.0.1:0'] }));
    const t = new Tsgun([fixture('app.mjs')], { cwd: dir });
    const line = await t.waitForLog((l) => l.msg.startsWith('using config file'));
    assert.equal(
      line.msg,
      `using config file ${join(dir, 'tsgun.config.json')} (found in the current directory)`,
    );
    assert.equal(line['discovered'], true);
    await t.waitForReady(1);
    t.kill();
  });
});

describe('tsgun stats and tsgun top', () => {
  it('--help of their own, unknown flags fail', async () => {
    const help = await runTsgun(['stats', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--json\s+Print the stats document as JSON/);
    const typo = await runTsgun(['stats', '127.0.0.1:9', '--jsn']);
    assert.equal(typo.code, 2);
    assert.deepEqual(plainLines(typo.stderr), [
      "tsgun: error: tsgun stats: unknown option '--jsn' (did you mean --json?) [TSGUN_ERR_CONFIG_UNKNOWN_KEY]",
    ]);
    const top = await runTsgun(['top', '--interval', '2']);
    assert.equal(top.code, 2);
    assert.match(plainLines(top.stderr)[0]!, /tsgun top: unknown option '--interval'/);
    const addr = await runTsgun(['stats', 'fd://3']);
    assert.equal(addr.code, 2);
    assert.match(plainLines(addr.stderr)[0]!, /tsgun stats: ADDR: not a stats address: fd:\/\/3/);
  });

  it('accept http://HOST:PORT and unix:PATH', async () => {
    const port = await freePort();
    const tcp = startApp('--stats', `127.0.0.1:${port}`);
    const sock = join(scratch, 'stats.sock');
    const unix = startApp('--stats', `unix:${sock}`);
    await tcp.waitForReady(1);
    await unix.waitForReady(1);
    const byUrl = await runTsgun(['stats', `http://127.0.0.1:${port}/`]);
    assert.equal(byUrl.code, 0, byUrl.stderr);
    assert.match(byUrl.stdout, new RegExp(`^tsgun ${version}  master ${tcp.pid} `));
    const byPath = await runTsgun(['stats', `unix:${sock}`, '--json']);
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.equal((JSON.parse(byPath.stdout) as { pid: number }).pid, unix.pid);
    tcp.kill();
    unix.kill();
  });

  it('top without a terminal says so and exits non-zero', async () => {
    const r = await runTsgun(['top', 'http://127.0.0.1:9']);
    assert.equal(r.code, 2);
    assert.deepEqual(plainLines(r.stderr), [
      'tsgun: error: tsgun top: needs a terminal (stdout is not a TTY); in a script use `tsgun stats ADDR` or `tsgun stats ADDR --json` [TSGUN_ERR_CONFIG_INVALID]',
    ]);
  });
});
