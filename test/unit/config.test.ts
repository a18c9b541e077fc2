import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duplicateBind, formatBindAddress, parseBindAddress } from '../../src/config/address.js';
import { parseAppSpec } from '../../src/config/app-spec.js';
import { canonicalKey } from '../../src/config/keys.js';
import { cmdArgsWords } from '../../src/config/load.js';
import { REGISTRY, SETTING_NAMES } from '../../src/config/registry.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { didYouMean } from '../../src/config/suggest.js';
import { jsonErrorLocation } from '../../src/config/syntax-location.js';
import { ConfigError } from '../../src/errors.js';
import { MAX_WORKERS } from '../../src/ipc/control.js';

describe('bind addresses', () => {
  const ok: [string, string][] = [
    ['127.0.0.1:8000', '127.0.0.1:8000'],
    [':9000', '0.0.0.0:9000'],
    ['localhost', 'localhost:8000'],
    ['[::1]:8080', '[::1]:8080'],
    ['[::]', '[::]:8000'],
    ['tcp://10.0.0.1:81', '10.0.0.1:81'],
    ['unix:/tmp/a.sock', 'unix:/tmp/a.sock'],
    ['unix:///run/x.sock', 'unix:/run/x.sock'],
    ['unix:rel.sock', 'unix:rel.sock'],
    ['fd://3', 'fd://3'],
    ['127.0.0.1:0', '127.0.0.1:0'],
  ];
  for (const [spec, shown] of ok) {
    it(`parses ${spec}`, () => assert.equal(formatBindAddress(parseBindAddress(spec)), shown));
  }
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['127.0.0.1:99999', /invalid port/],
    ['127.0.0.1:http', /invalid port/],
    ['::1:80', /need brackets/],
    ['[::1', /unclosed/],
    ['[::g]:80', /invalid IPv6/],
    ['fd://2', /N >= 3/],
    ['unix:', /missing path/],
    ['bad host!:80', /invalid host/],
    ['256.256.256.256:80', /invalid IPv4 address in "256\.256\.256\.256:80"/],
    ['10.1:80', /invalid IPv4 address/],
    ['1.2.3.4.5', /invalid IPv4 address/],
  ];
  for (const [spec, message] of bad) {
    it(`rejects ${JSON.stringify(spec)}`, () =>
      assert.throws(() => parseBindAddress(spec), message));
  }
});

describe('addresses given twice', () => {
  it('finds the same socket in any spelling, and a wildcard over an address on its port', () => {
    const cases: [string[], string | null][] = [
      [['127.0.0.1:80', '127.0.0.1:81'], null],
      [['127.0.0.1:0', '127.0.0.1:0'], null],
      [['localhost:80', '0.0.0.0:80'], null],
      [['[::1]:80', '127.0.0.1:80'], null],
      [['127.0.0.1:80', ' 127.0.0.1:80'], '" 127.0.0.1:80" is given twice'],
      [[':80', '0.0.0.0:80'], '":80" and "0.0.0.0:80" are the same address'],
      [['[0::1]:80', '[::1]:80'], '"[0::1]:80" and "[::1]:80" are the same address'],
      [['LocalHost:80', 'localhost:80'], '"LocalHost:80" and "localhost:80" are the same address'],
      [
        ['unix:./a.sock', `unix:${process.cwd()}/a.sock`],
        `"unix:./a.sock" and "unix:${process.cwd()}/a.sock" are the same address`,
      ],
      [['fd://3', 'fd://3'], '"fd://3" is given twice'],
      [['127.0.0.1:80', ':80'], '":80" takes port 80 on every address, "127.0.0.1:80" included'],
      [
        ['[::]:80', '10.0.0.1:80'],
        '"[::]:80" takes port 80 on every address, "10.0.0.1:80" included',
      ],
      [['[::1]:80', '[::]:80'], '"[::]:80" takes port 80 on every address, "[::1]:80" included'],
    ];
    for (const [specs, found] of cases) {
      const got = duplicateBind(specs);
      if (found === null) assert.equal(got, null, specs.join(' '));
      else assert.equal(got, found);
    }
  });

  it('--bind refuses them whichever layer gives them', () => {
    assert.throws(
      () => resolveConfig({ env: { TSGUN_BIND: ':8000,0.0.0.0:8000' }, cli: { app: 'a.js' } }),
      (err: ConfigError) =>
        err.problems[0] ===
        '--bind: ":8000" and "0.0.0.0:8000" are the same address: each address is bound once (from TSGUN_BIND)',
    );
  });
});

describe('bounds', () => {
  it('-w, WEB_CONCURRENCY: 1 to MAX_WORKERS', () => {
    assert.equal(REGISTRY.workers.parse(String(MAX_WORKERS)), MAX_WORKERS);
    assert.throws(() => REGISTRY.workers.parse(MAX_WORKERS + 1), /between 1 and 1024, got 1025/);
    assert.throws(() => resolveConfig({ env: { WEB_CONCURRENCY: '5000' }, cli: { app: 'a.js' } }));
  });

  it('--timeout: 0 (off) or at least a second', () => {
    assert.equal(REGISTRY.timeout.parse('0'), 0);
    assert.equal(REGISTRY.timeout.parse('1'), 1);
    for (const bad of ['0.001', '0.5'])
      assert.throws(
        () => REGISTRY.timeout.parse(bad),
        /expected 0 \(off\) or a number of seconds >= 1/,
      );
  });
});

describe('app specs', () => {
  it('parses module, module:name and module:factory()', () => {
    assert.deepEqual(parseAppSpec('app.js'), { module: 'app.js', exportName: null, call: false });
    assert.deepEqual(parseAppSpec('src/app.mjs:server'), {
      module: 'src/app.mjs',
      exportName: 'server',
      call: false,
    });
    assert.deepEqual(parseAppSpec('app.cjs:createApp()'), {
      module: 'app.cjs',
      exportName: 'createApp',
      call: true,
    });
    assert.throws(() => parseAppSpec('app.js:not valid'), /invalid export/);
  });
});

describe('the registry', () => {
  it('declares every setting with help, a section and a parser; every env name is unique', () => {
    const envs = new Set<string>();
    for (const name of SETTING_NAMES) {
      const def = REGISTRY[name];
      assert.ok(def.help.length > 10, name);
      assert.equal(typeof def.parse, 'function');
      if (def.env) {
        assert.ok(!envs.has(def.env), def.env);
        envs.add(def.env);
      }
    }
  });
});

describe('resolveConfig', () => {
  const env = {};
  it('layers defaults < file < env < TSGUN_CMD_ARGS < CLI', () => {
    const { config, sources } = resolveConfig({
      env: { TSGUN_WORKERS: '3', TSGUN_TIMEOUT: '7' },
      file: { path: 'tsgun.json', values: { workers: 2, timeout: 5, keep_alive: 1, backlog: 10 } },
      envArgs: { timeout: '8', backlog: '11' },
      cli: { backlog: '12', app: 'a.js' },
    });
    assert.equal(config.workers, 3);
    assert.equal(sources.workers, 'env');
    assert.equal(config.timeout, 8);
    assert.equal(sources.timeout, 'TSGUN_CMD_ARGS');
    assert.equal(config.backlog, 12);
    assert.equal(sources.backlog, 'cli');
    assert.equal(config.keepAlive, 1);
    assert.equal(sources.keepAlive, 'file');
    assert.equal(sources.gracefulTimeout, 'default');
  });

  it('returns a deeply frozen config', () => {
    const { config } = resolveConfig({ env, cli: { app: 'a.js' } });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.bind));
    assert.ok(Object.isFrozen(config.bind[0]));
  });

  it('collects every problem, each naming the setting, the value and its origin', () => {
    try {
      resolveConfig({
        env: { TSGUN_BACKLOG: '0' },
        cli: { workers: 'x', app: 'a.js' },
        file: { path: 'f.json', values: { timeot: 3 } },
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        'unknown setting "timeot" in f.json (did you mean timeout?)',
        '--backlog: expected an integer between 1 and 65535, got 0 (from TSGUN_BACKLOG)',
        '--workers: expected an integer, got "x" (from the command line)',
      ]);
    }
  });

  it('accepts camelCase, snake_case and kebab-case keys in a file', () => {
    assert.equal(canonicalKey('worker_connections'), 'workerConnections');
    assert.equal(canonicalKey('worker-connections'), 'workerConnections');
    assert.equal(canonicalKey('workerConnections'), 'workerConnections');
  });

  it('refuses command-line-only switches in a file', () => {
    assert.throws(
      () =>
        resolveConfig({
          env,
          cli: { app: 'a' },
          file: { path: 'f', values: { checkConfig: true } },
        }),
      /unknown setting "checkConfig"/,
    );
  });

  it('refuses router settings without --router; reads FORWARDED_ALLOW_IPS like Gunicorn', () => {
    assert.throws(
      () => resolveConfig({ env, cli: { app: 'a', sticky: 'cookie' } }),
      /--sticky: cookie needs --router/,
    );
    assert.throws(
      () => resolveConfig({ env, cli: { app: 'a', route: ['/x=http://h:1'] } }),
      /--route: needs --router/,
    );
    const { config } = resolveConfig({
      env: { FORWARDED_ALLOW_IPS: '10.0.0.0/8, *' },
      cli: { app: 'a', router: true, route: ['/x=http://h:1'], sticky: 'IP' },
    });
    assert.deepEqual(config.forwardedAllowIps, ['10.0.0.0/8', '*']);
    assert.equal(config.sticky, 'ip');
    assert.deepEqual(config.route, [{ prefix: '/x', url: 'http://h:1' }]);
    assert.deepEqual(resolveConfig({ env, cli: { app: 'a' } }).config.forwardedAllowIps, [
      '127.0.0.1',
      '::1',
    ]);
  });

  it('takes --proxy-protocol with --certfile (the header comes before the TLS handshake)', () => {
    for (const router of [false, true]) {
      const { config } = resolveConfig({
        env,
        cli: { app: 'a', proxyProtocol: true, certfile: 'c.pem', keyfile: 'k.pem', router },
      });
      assert.deepEqual([config.proxyProtocol, config.certfile], [true, 'c.pem']);
    }
  });

  it('requires an app unless printing the config', () => {
    assert.throws(() => resolveConfig({ env }), /APP: missing/);
    assert.equal(resolveConfig({ env, cli: { printConfig: true } }).config.app, null);
  });

  it('reads PORT and WEB_CONCURRENCY for defaults', () => {
    const { config } = resolveConfig({
      env: { PORT: '5000', WEB_CONCURRENCY: '4' },
      cli: { app: 'a' },
    });
    assert.deepEqual(config.bind, [{ kind: 'tcp', host: '0.0.0.0', port: 5000 }]);
    assert.equal(config.workers, 4);
  });

  it('parses repeatable values from a file array, flags or a comma list', () => {
    const fromFile = resolveConfig({
      env,
      cli: { app: 'a' },
      file: { path: 'f', values: { bind: [':1', ':2'] } },
    });
    assert.equal(fromFile.config.bind.length, 2);
    const fromEnv = resolveConfig({ env: { TSGUN_BIND: ':1,unix:/tmp/s' }, cli: { app: 'a' } });
    assert.equal(fromEnv.config.bind[1]!.kind, 'unix');
    const envPairs = resolveConfig({ env, cli: { app: 'a', env: ['A=1', 'B=x=y'] } });
    assert.deepEqual(envPairs.config.env, [
      ['A', '1'],
      ['B', 'x=y'],
    ]);
  });
});

describe('helpers', () => {
  it('suggests close names only', () => {
    assert.equal(didYouMean('wokers', ['workers', 'backlog']), 'workers');
    assert.equal(didYouMean('zzzzzz', ['workers', 'backlog']), undefined);
  });
  it('splits TSGUN_CMD_ARGS like a shell', () => {
    assert.deepEqual(cmdArgsWords(`-w 3 --bind "127.0.0.1:1" -e 'A=b c'`), [
      '-w',
      '3',
      '--bind',
      '127.0.0.1:1',
      '-e',
      'A=b c',
    ]);
  });
});

describe('config-file hints (the same as the command line gives)', () => {
  const problems = (values: Record<string, unknown>): string[] => {
    try {
      resolveConfig({ env: {}, cli: { app: 'a.js' }, file: { path: 'tsgun.config.json', values } });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return [...err.problems];
    }
    return assert.fail('expected a ConfigError');
  };

  it("workers: 'max' -> 'auto', naming the file and the key", () => {
    assert.deepEqual(problems({ workers: 'max' }), [
      `--workers: expected an integer, got "max" (from tsgun.config.json, key "workers"): use workers: 'auto' (one worker per CPU in the CPU budget, as PM2's max)`,
    ]);
  });

  it("bind: 8080 -> ':8080', also in a list", () => {
    assert.match(
      problems({ bind: 8080 })[0]!,
      /^--bind: .* \(from tsgun\.config\.json, key "bind"\): use bind: ':8080' /,
    );
    assert.match(
      problems({ bind: [8080, '127.0.0.1:81'] })[0]!,
      /use bind: \[':8080', '127.0.0.1:81'\]/,
    );
  });

  it("PM2's instances and watch, and port/host keys, get tsgun's key", () => {
    assert.deepEqual(problems({ instances: 'max', watch: true, port: 3000, host: '0.0.0.0' }), [
      `unknown setting "instances" in tsgun.config.json: tsgun spells PM2's instances as workers: use workers: 'auto'`,
      'unknown setting "watch" in tsgun.config.json: use reload: true (restart the workers when a source file changes)',
      `unknown setting "port" in tsgun.config.json: tsgun binds with bind: use bind: ':3000'`,
      `unknown setting "host" in tsgun.config.json: tsgun binds with bind: use bind: '0.0.0.0:PORT'`,
    ]);
    assert.match(problems({ instances: 4 })[0]!, /use workers: 4$/);
  });
});

describe('JSON syntax errors as line and column', () => {
  const at = (text: string) => {
    try {
      JSON.parse(text);
    } catch (err) {
      return jsonErrorLocation((err as Error).message, text);
    }
    return assert.fail('expected a SyntaxError');
  };
  it('from Node 20\'s "at position N" or a newer "(line L column C)"', () => {
    assert.deepEqual(at('{\n  "workers": 2,\n}\n'), { line: 3, column: 1 });
    assert.deepEqual(at('{\n  "a" 1\n}'), { line: 2, column: 7 });
    assert.deepEqual(
      jsonErrorLocation('Unexpected token in JSON at position 3 (line 2 column 9)', 'x'),
      { line: 2, column: 9 },
    );
  });
  it('the end of the text when the input ends early', () => {
    assert.deepEqual(at('{\n  "a": 1'), { line: 2, column: 9 });
    assert.deepEqual(jsonErrorLocation('Unexpected end of JSON input', '{\n  "a": 1\n\n'), {
      line: 2,
      column: 9,
    });
  });
});

describe('docs/settings.md and docs/errors.md', () => {
  it('show the settings and error tables as the registry generates them (npm run docs)', async () => {
    const { readFileSync } = await import('node:fs');
    const { GENERATED_PAGES, renderDocs } = await import('../../src/config/docs.js');
    for (const [name, page] of Object.entries(GENERATED_PAGES)) {
      const text = readFileSync(new URL(`../../../${page}`, import.meta.url), 'utf8');
      assert.ok(text.includes(`<!-- ${name}:start -->`), `${page} has the ${name} block`);
      assert.equal(text, renderDocs(text), `${page} is stale: run npm run docs`);
    }
  });
});
