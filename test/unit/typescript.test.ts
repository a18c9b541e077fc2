import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REGISTRY, SETTING_NAMES } from '../../src/config/registry.js';
import {
  canRunTypeScript,
  checkTypeScript,
  isTypeScriptFile,
} from '../../src/config/typescript.js';
import { defineConfig, NOT_IN_FILE } from '../../src/user-config.js';

const node20 = { version: 'v20.20.2', typescript: undefined, nodeFlags: '' };

describe('TypeScript files', () => {
  it('.ts, .mts and .cts are TypeScript; .js, .d.ts-less names and .tsx are not', () => {
    for (const f of ['a.ts', 'dir/a.mts', 'a.cts']) assert.ok(isTypeScriptFile(f), f);
    for (const f of ['a.js', 'a.mjs', 'a', 'a.tsx', 'ts']) assert.ok(!isTypeScriptFile(f), f);
  });

  it('runs where Node strips types or a loader is preloaded, and not otherwise', () => {
    assert.ok(canRunTypeScript({ ...node20, version: 'v22.18.0', typescript: 'strip' }));
    assert.ok(canRunTypeScript({ ...node20, typescript: 'transform' }));
    assert.ok(canRunTypeScript({ ...node20, nodeFlags: '--import tsx' }));
    assert.ok(
      canRunTypeScript({ ...node20, nodeFlags: '--max-old-space-size=100 -r ts-node/register' }),
    );
    assert.ok(canRunTypeScript({ ...node20, nodeFlags: '--loader=ts-node/esm' }));
    assert.ok(!canRunTypeScript(node20));
    assert.ok(
      !canRunTypeScript({ ...node20, typescript: false, nodeFlags: '--inspect --imports' }),
    );
  });

  it('refuses with TSGUN_ERR_TYPESCRIPT (exit 4) naming the file, the Node and what to do', () => {
    assert.doesNotThrow(() => checkTypeScript('app', 'app.js', node20));
    assert.throws(
      () => checkTypeScript('app', 'src/app.ts', node20),
      (err: Error & { code?: string; exitCode?: number }) =>
        err.code === 'TSGUN_ERR_TYPESCRIPT' &&
        err.exitCode === 4 &&
        err.message.startsWith('app src/app.ts is TypeScript and Node v20.20.2 cannot run it') &&
        err.message.includes('--import tsx'),
    );
  });
});

describe('defineConfig', () => {
  it('returns what it is given (it exists for the types)', () => {
    const config = { workers: 2, onStarting: () => {} };
    assert.equal(defineConfig(config), config);
  });

  it('leaves out of the file type exactly the settings a file may not give', () => {
    const cliOnly = SETTING_NAMES.filter((n) => (REGISTRY[n] as { cliOnly?: boolean }).cliOnly);
    assert.deepEqual([...NOT_IN_FILE].sort(), ['config', ...cliOnly].sort());
  });
});
