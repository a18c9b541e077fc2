import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foreignEnvWarnings, serviceLinkOf } from '../../src/config/foreign-env.js';
import { cmdArgsWords } from '../../src/config/load.js';
import { REGISTRY, SETTING_NAMES } from '../../src/config/registry.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { splitShellWords } from '../../src/config/shell-words.js';
import { ConfigError } from '../../src/errors.js';

describe('TSGUN_CMD_ARGS split like a shell (shlex.split)', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['  -w   3 ', ['-w', '3']],
    [`--access-logformat "%(h)s %(r)s"`, ['--access-logformat', '%(h)s %(r)s']],
    [`-e 'A=b c'`, ['-e', 'A=b c']],
    [`--x="a b"c'd e'`, ['--x=a bcd e']],
    [String.raw`a\ b`, ['a b']],
    [String.raw`"say \"hi\" \\ \$HOME \n"`, [String.raw`say "hi" \ $HOME \n`]],
    [String.raw`'no \escapes "here"'`, [String.raw`no \escapes "here"`]],
    [`"" ''`, ['', '']],
    ['a\tb\nc', ['a', 'b', 'c']],
    ['a\\\nb', ['ab']],
    ['$HOME `id`', ['$HOME', '`id`']],
  ];
  for (const [text, words] of cases) {
    it(JSON.stringify(text), () => assert.deepEqual(splitShellWords(text), words));
  }

  it('an unfinished quote or a trailing backslash is one line naming TSGUN_CMD_ARGS', () => {
    for (const [text, message] of [
      [`-w "3`, 'TSGUN_CMD_ARGS: unterminated double quote at character 4 in "-w \\"3"'],
      [`-e 'A=b`, `TSGUN_CMD_ARGS: unterminated single quote at character 4 in "-e 'A=b"`],
      ['-w 3\\', 'TSGUN_CMD_ARGS: a trailing backslash escapes nothing in "-w 3\\\\"'],
    ] as const) {
      assert.throws(
        () => cmdArgsWords(text),
        (err: unknown) => err instanceof ConfigError && err.problems[0] === message,
        text,
      );
    }
  });
});

describe('TSGUN_* variables that are not settings', () => {
  const known = SETTING_NAMES.map((n) => REGISTRY[n].env).filter((e) => e !== undefined);

  it("recognises Kubernetes' service-link names", () => {
    for (const name of [
      'TSGUN_SERVICE_HOST',
      'TSGUN_SERVICE_PORT',
      'TSGUN_SERVICE_PORT_HTTP',
      'TSGUN_PORT',
      'TSGUN_PORT_8000_TCP',
      'TSGUN_PORT_8000_TCP_ADDR',
      'TSGUN_PORT_8000_TCP_PORT',
      'TSGUN_PORT_53_UDP_PROTO',
    ])
      assert.equal(serviceLinkOf(name), 'TSGUN', name);
    assert.equal(serviceLinkOf('TSGUN_API_SERVICE_HOST'), 'TSGUN_API');
    assert.equal(serviceLinkOf('TSGUN_WORKRS'), null);
  });

  it('no setting can ever receive a service-link variable: no env name has that shape', () => {
    // Kubernetes derives every name from a Service's name plus these suffixes, so a Service
    // named tsgun-<anything> only collides with a setting whose env name ends like them.
    assert.deepEqual(
      known.filter((e) => serviceLinkOf(e) !== null),
      [],
    );
  });

  it('one warning per unknown name (with its hint), one per Kubernetes service', () => {
    assert.deepEqual(
      foreignEnvWarnings(['TSGUN_API_PORT', 'TSGUN_API_SERVICE_HOST', 'TSGUN_WORKRS'], known),
      [
        'ignoring unknown environment variable TSGUN_WORKRS (did you mean TSGUN_WORKERS?)',
        'ignoring TSGUN_API_PORT, TSGUN_API_SERVICE_HOST: Kubernetes service-link variables of a Service named tsgun-api, not tsgun settings (enableServiceLinks: false in the pod spec drops them)',
      ],
    );
  });

  it('resolveConfig warns instead of failing; a known name with a bad value still fails', () => {
    const env = { TSGUN_PORT: 'tcp://10.0.0.1:8000', TSGUN_WORKRS: '2', TSGUN_WORKERS: '3' };
    const r = resolveConfig({ env, cli: { app: 'a.js' } });
    assert.equal(r.config.workers, 3);
    assert.equal(r.warnings.length, 2);
    assert.throws(
      () => resolveConfig({ env: { ...env, TSGUN_WORKERS: 'x' }, cli: { app: 'a.js' } }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.length === 1 &&
        /--workers: .*"x" \(from TSGUN_WORKERS\)/.test(err.problems[0]!),
    );
  });
});
