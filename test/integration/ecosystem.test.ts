import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import {
  fixture,
  killAll,
  plainLines,
  ROOT,
  runTsgun,
  Tsgun,
  waitForFile,
} from '../helpers/tsgun.js';

after(killAll);

const scratch = mkdtempSync(join(tmpdir(), 'tsgun-ecosystem-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A file in a fresh directory under the scratch one. */
function file(name: string, text: string): string {
  const dir = mkdtempSync(join(scratch, 'app-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The app's environment, as one worker answers it (the spare-env fixture). */
async function workerEnv(t: Tsgun): Promise<Record<string, string>> {
  const reply = await request(`${await t.url()}/`);
  assert.equal(reply.status, 200, reply.body);
  return (JSON.parse(reply.body) as { env: Record<string, string> }).env;
}

const ENV_APP = fixture('spare-env.mjs');
/** The commands with their own --help whose flags a document may name. */
const CONTROL_WORDS = ['status', 'reload', 'scale', 'stop', 'stats', 'top'];

describe('PM2 ecosystem files', () => {
  it('tsgun start ecosystem.config.cjs --env production: its workers, its env and env_production', async () => {
    const path = file(
      'ecosystem.config.cjs',
      `module.exports = { apps: [{ name: 'api', script: ${JSON.stringify(ENV_APP)}, instances: 2,
        env: { GREETING: 'hi', COUNT: 3 }, env_production: { GREETING: 'prod' }, colour: 'blue' }] };`,
    );
    const t = new Tsgun(['start', path, '--env', 'production', '-b', '127.0.0.1:0']);
    await t.waitForReady(2);
    const env = await workerEnv(t);
    assert.equal(env['GREETING'], 'prod');
    assert.equal(env['COUNT'], '3');
    const warnings = t.logs.filter((l) => /ecosystem key/.test(l.msg));
    assert.deepEqual(
      warnings.map((l) => l.msg),
      ['ecosystem key colour: not supported by tsgun, ignored'],
    );
    assert.ok(
      t.logs.some((l) => l.name === 'api'),
      'the app name names the master',
    );
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it("an .mjs file with instances 'max' runs auto workers, and its log_file gets the app's output", async () => {
    const dir = mkdtempSync(join(scratch, 'mjs-'));
    writeFileSync(
      join(dir, 'chatty.mjs'),
      "console.log('hello from the app');\nexport default (_q, r) => r.end('ok');\n",
    );
    const log = join(dir, 'app.log');
    const path = join(dir, 'ecosystem.config.mjs');
    writeFileSync(
      path,
      `export default { apps: [{ script: 'chatty.mjs', instances: 'max', log_file: ${JSON.stringify(log)} }] };`,
    );
    const printed = await runTsgun([path, '--print-config']);
    assert.equal(printed.code, 0, printed.stderr);
    const config = JSON.parse(printed.stdout) as Record<string, { value: unknown }>;
    assert.equal(config['workers']?.value, 'auto');
    assert.equal(config['captureOutput']?.value, true);
    const t = new Tsgun([path, '-b', '127.0.0.1:0', '-w', '1']);
    const text = await waitForFile(log, (all) => all.includes('hello from the app'));
    const record = text.split('\n').find((l) => l.includes('hello from the app'));
    assert.equal((JSON.parse(record!) as { stream: string }).stream, 'stdout');
    t.kill();
  });

  it('--only picks one app of a .json file; without it, one line names them all', async () => {
    const path = file(
      'ecosystem.json',
      JSON.stringify({
        apps: [
          { name: 'web', script: ENV_APP, env: { WHO: 'web' } },
          { name: 'jobs', script: ENV_APP, env: { WHO: 'jobs' } },
        ],
      }),
    );
    const both = await runTsgun([path, '-b', '127.0.0.1:0']);
    assert.equal(both.code, 2);
    assert.deepEqual(plainLines(both.stderr), [
      `tsgun: error: ecosystem file ${path} has 2 apps (web, jobs): tsgun runs one per master, pick it with --only NAME [TSGUN_ERR_CONFIG_INVALID]`,
    ]);
    const t = new Tsgun([path, '--only', 'jobs', '-b', '127.0.0.1:0']);
    await t.waitForReady(1);
    assert.equal((await workerEnv(t))['WHO'], 'jobs');
    t.kill();
  });

  it('-c names an ecosystem file of any name (an apps list); --only without one is an error', async () => {
    const path = file(
      'services.cjs',
      `module.exports = { apps: [{ script: ${JSON.stringify(ENV_APP)} }] };`,
    );
    const ok = await runTsgun(['-c', path, '--check-config']);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await runTsgun([ENV_APP, '--only', 'web', '--check-config']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--only: web needs a PM2 ecosystem file/);
    const bare = await runTsgun([ENV_APP, '--env', 'production', '--check-config']);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /--env: expected KEY=VALUE, got "production" \(a bare NAME picks/);
  });
});

describe('HUP with a relative config path and a cwd', () => {
  it('reads the same file again, though the master runs in the cwd by then', async () => {
    const dir = mkdtempSync(join(scratch, 'hup-'));
    const app = (greeting: string) =>
      JSON.stringify({ apps: [{ script: ENV_APP, cwd: '..', env: { GREETING: greeting } }] });
    writeFileSync(join(dir, 'ecosystem.json'), app('one'));
    const t = new Tsgun(['ecosystem.json', '-b', '127.0.0.1:0'], { cwd: dir });
    await t.waitForReady(1);
    assert.equal((await workerEnv(t))['GREETING'], 'one');
    writeFileSync(join(dir, 'ecosystem.json'), app('two'));
    await t.reload();
    assert.equal((await workerEnv(t))['GREETING'], 'two');
    assert.ok(!t.logs.some((l) => /config is invalid/.test(l.msg)), t.stderrText);
    t.kill();
  });
});

describe('a tsgun config file', () => {
  it('gives env as an object', async () => {
    const path = file('tsgun.config.json', JSON.stringify({ env: { FROM_FILE: 'yes', N: 7 } }));
    const t = new Tsgun([ENV_APP, '-c', path, '-b', '127.0.0.1:0']);
    await t.waitForReady(1);
    const env = await workerEnv(t);
    assert.equal(env['FROM_FILE'], 'yes');
    assert.equal(env['N'], '7');
    t.kill();
  });
});

describe("docs/migrating.md, From PM2's ecosystem.config.js", () => {
  // The PM2 section only: the page's other sections name PM2's and Gunicorn's own flags.
  const page = readFileSync(`${ROOT}docs/migrating.md`, 'utf8');
  const from = page.indexOf("## From PM2's ecosystem.config.js");
  const to = page.indexOf('\n## ', from + 1);
  const doc = page.slice(from, to < 0 ? undefined : to);

  it('names only flags and commands tsgun has', async () => {
    assert.ok(from >= 0, 'docs/migrating.md has the PM2 section');
    // Every flag of tsgun and of its commands, as their --help prints them.
    const helps = await Promise.all(
      [['--help'], ...CONTROL_WORDS.map((w) => ['help', w])].map((args) => runTsgun(args)),
    );
    const known = new Set(helps.flatMap((h) => h.stdout.match(/--?[a-zA-Z][\w-]*/g) ?? []));
    const flags = [...doc.matchAll(/`[^`\n]*`/g)]
      .flatMap((m) => m[0].match(/(?<![\w-])--?[a-z][\w-]*/g) ?? [])
      .filter((f) => f !== '-HUP');
    assert.ok(flags.length > 10, `flags found: ${flags.join(' ')}`);
    assert.deepEqual(
      flags.filter((f) => !known.has(f)),
      [],
    );
    const words = new Set([...doc.matchAll(/`tsgun ([a-z]+)(?![.\w])/g)].map((m) => m[1]!));
    assert.ok(words.size >= 5, [...words].join(' '));
    for (const word of words) {
      if (word === 'start') continue; // PM2's word, checked below
      const help = await runTsgun(['help', word]);
      assert.match(help.stdout, new RegExp(`^Usage: tsgun ${word} `), `tsgun ${word}`);
    }
    const start = await runTsgun(['start']);
    assert.match(start.stderr, /tsgun start: name the app to run/);
  });

  it('its ecosystem file passes --check-config with the command line it shows', async () => {
    const example = /```js\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    assert.ok(example.includes('apps:'), 'the doc shows an ecosystem file');
    const dir = mkdtempSync(join(scratch, 'doc-'));
    writeFileSync(join(dir, 'ecosystem.config.js'), example);
    const script = /script: '([^']+)'/.exec(example)![1]!;
    writeFileSync(join(dir, script), "export default (_q, r) => r.end('ok');\n");
    const command = /```sh\n(tsgun ecosystem\.config\.js [^\n]*)\n/.exec(doc)?.[1];
    assert.ok(command, 'the doc shows the command line');
    const r = await runTsgun([...command.split(' ').slice(1), '--check-config'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      plainLines(r.stderr).filter((l) => l.includes('warning')),
      [],
    );
    const printed = await runTsgun([...command.split(' ').slice(1), '--print-config'], {
      cwd: dir,
    });
    const config = JSON.parse(printed.stdout) as Record<string, { value: unknown }>;
    assert.equal(config['workers']?.value, 'auto', "instances: 'max'");
    assert.deepEqual(config['env']?.value, ['NODE_ENV=production']);
    assert.equal(config['reloadOnRss']?.value, 300);
  });
});
