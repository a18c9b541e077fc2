import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ecosystemSettings, isEcosystemName, memoryMiB } from '../../src/config/ecosystem.js';
import { REGISTRY } from '../../src/config/registry.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors.js';

const FILE = '/srv/app/ecosystem.config.js';
const one = (app: Record<string, unknown>, choice = {}) =>
  ecosystemSettings(FILE, { apps: [app] }, choice);
const problems = (f: () => unknown): readonly string[] => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('PM2 ecosystem files', () => {
  it('are recognised by their name', () => {
    for (const name of [
      'ecosystem.config.js',
      'x/ecosystem.config.cjs',
      'ecosystem.json',
      'process.json',
      'ecosystem.prod.mjs',
    ])
      assert.ok(isEcosystemName(name), name);
    for (const name of ['app.js', 'process.js', 'pm2.config.js', 'ecosystem.ts', 'my-ecosystem.js'])
      assert.ok(!isEcosystemName(name), name);
  });

  it('map each PM2 key to its tsgun setting', () => {
    const { settings, warnings } = one({
      name: 'api',
      script: 'server.js',
      cwd: 'srv',
      instances: 4,
      max_memory_restart: '300M',
      kill_timeout: 3000,
      listen_timeout: 8000,
      wait_ready: true,
      cron_restart: '0 4 * * *',
      watch: ['src/'],
      pid_file: '/run/api.pid',
      exec_mode: 'cluster',
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(settings, {
      name: 'api',
      app: '/srv/app/srv/server.js',
      chdir: '/srv/app/srv',
      workers: 4,
      reloadOnRss: 300,
      gracefulTimeout: 3,
      readyTimeout: 8,
      waitReady: true,
      cron: ['0 4 * * * reload'],
      reload: true,
      reloadExtraFile: ['src/**'],
      pid: '/run/api.pid',
    });
  });

  it("read instances 'max', 0 and -1 as auto", () => {
    for (const instances of ['max', 0, -1, '-1'])
      assert.equal(one({ script: 'a.js', instances }).settings['workers'], 'auto');
  });

  it('read memory sizes as MiB, rounded up', () => {
    assert.equal(memoryMiB('300M'), 300);
    assert.equal(memoryMiB('1G'), 1024);
    assert.equal(memoryMiB('512K'), 1);
    assert.equal(memoryMiB(200 * 1024 * 1024), 200);
    assert.throws(() => memoryMiB('lots'), /max_memory_restart: expected a size/);
  });

  it('lay env_NAME over env when --env NAME picks it', () => {
    const app = { script: 'a.js', env: { A: '1', B: 2 }, env_production: { A: 'prod' } };
    assert.deepEqual(one(app).settings['env'], { A: '1', B: 2 });
    assert.deepEqual(one(app, { envName: 'production' }).settings['env'], { A: 'prod', B: 2 });
    assert.deepEqual(
      problems(() => one(app, { envName: 'staging' })),
      [`--env: staging names no env_staging in ${FILE}`],
    );
  });

  it('send the app output to one log file, captured', () => {
    const { settings, warnings } = one({
      script: 'a.js',
      out_file: '/var/log/out.log',
      error_file: '/var/log/err.log',
    });
    assert.equal(settings['errorLogfile'], '/var/log/err.log');
    assert.equal(settings['captureOutput'], true);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^ecosystem key out_file: tsgun writes one log/);
    assert.deepEqual(one({ script: 'a.js', out_file: '/dev/null' }).settings, {
      app: '/srv/app/a.js',
    });
  });

  it('warn once per key tsgun does not run, naming it', () => {
    const { warnings } = ecosystemSettings(FILE, {
      apps: [{ script: 'a.js', args: '--x', node_args: '--max-old-space-size=512', colour: 1 }],
      deploy: {},
    });
    assert.equal(warnings.length, 4);
    for (const [i, key] of ['deploy', 'args', 'node_args', 'colour'].entries())
      assert.match(warnings[i]!, new RegExp(`^ecosystem key ${key}: .*ignored$`));
  });

  it('name every app when several are given without --only, and pick one with it', () => {
    const values = {
      apps: [
        { name: 'web', script: 'w.js' },
        { name: 'jobs', script: 'j.js' },
      ],
    };
    assert.deepEqual(
      problems(() => ecosystemSettings(FILE, values)),
      [
        `ecosystem file ${FILE} has 2 apps (web, jobs): tsgun runs one per master, pick it with --only NAME`,
      ],
    );
    assert.equal(
      ecosystemSettings(FILE, values, { only: 'jobs' }).settings['app'],
      '/srv/app/j.js',
    );
    assert.match(
      problems(() => ecosystemSettings(FILE, values, { only: 'x' }))[0]!,
      /its apps: web, jobs/,
    );
  });

  it('give settings the resolver accepts', () => {
    const { settings } = one({
      script: 'a.js',
      instances: 'max',
      env: { PORT_X: 1 },
      kill_timeout: 1600,
    });
    const { config } = resolveConfig({ env: {}, file: { path: FILE, values: settings } });
    assert.equal(config.workers, 'auto');
    assert.deepEqual(config.env, [['PORT_X', '1']]);
    assert.equal(config.gracefulTimeout, 1.6);
  });
});

describe('the env setting', () => {
  it('takes an object of variables, as a config file writes it', () => {
    assert.deepEqual(REGISTRY.env.parse({ A: 'x=y', N: 3, B: false }), [
      ['A', 'x=y'],
      ['N', '3'],
      ['B', 'false'],
    ]);
    assert.throws(() => REGISTRY.env.parse({ A: { nested: 1 } }), /expected a string for A/);
    assert.deepEqual(REGISTRY.env.parse(['A=1']), [['A', '1']]);
  });
});
