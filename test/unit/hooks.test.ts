import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalKey } from '../../src/config/keys.js';
import { HOOK_NAMES, WORKER_HOOKS } from '../../src/config/registry.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { workerHooksFrom } from '../../src/hooks.js';

/** Every server hook as a config file may spell it: camelCase, kebab-case (the CLI's), snake_case. */
const SPELLINGS: readonly (readonly [string, string, string])[] = [
  ['onStarting', 'on-starting', 'on_starting'],
  ['onReload', 'on-reload', 'on_reload'],
  ['whenReady', 'when-ready', 'when_ready'],
  ['preFork', 'pre-fork', 'pre_fork'],
  ['postFork', 'post-fork', 'post_fork'],
  ['postWorkerInit', 'post-worker-init', 'post_worker_init'],
  ['workerInt', 'worker-int', 'worker_int'],
  ['workerAbort', 'worker-abort', 'worker_abort'],
  ['preExec', 'pre-exec', 'pre_exec'],
  ['childExit', 'child-exit', 'child_exit'],
  ['workerExit', 'worker-exit', 'worker_exit'],
  ['nworkersChanged', 'nworkers-changed', 'nworkers_changed'],
  ['onExit', 'on-exit', 'on_exit'],
  ['preRequest', 'pre-request', 'pre_request'],
  ['postRequest', 'post-request', 'post_request'],
];

describe('config keys', () => {
  it('the table names every hook the registry has', () => {
    assert.deepEqual(SPELLINGS.map(([camel]) => camel).sort(), [...HOOK_NAMES].sort());
  });

  it('maps the three spellings of a key to one setting name', () => {
    for (const spellings of SPELLINGS)
      for (const key of spellings) assert.equal(canonicalKey(key), spellings[0], key);
    assert.equal(canonicalKey('max-requests-jitter'), 'maxRequestsJitter');
    assert.equal(canonicalKey('limit_request_field_size'), 'limitRequestFieldSize');
  });

  it('gives the master every hook under each spelling', () => {
    for (const spellings of SPELLINGS) {
      for (const key of spellings) {
        const fn = () => key;
        const { config } = resolveConfig({
          env: {},
          file: { path: 'tsgun.config.js', values: { [key]: fn } },
          cli: { app: 'a.js' },
        });
        assert.equal(config[spellings[0] as keyof typeof config], fn, key);
      }
    }
  });

  it('gives a worker its own hooks under each spelling, and only those', () => {
    for (const spellings of SPELLINGS) {
      const name = spellings[0];
      const ranByWorker = (WORKER_HOOKS as readonly string[]).includes(name);
      for (const key of spellings) {
        const fn = () => key;
        const hooks = workerHooksFrom({ [key]: fn, workers: 2 });
        assert.deepEqual(hooks, ranByWorker ? { [name]: fn } : {}, key);
      }
    }
    assert.deepEqual([...WORKER_HOOKS].sort(), [
      'postRequest',
      'postWorkerInit',
      'preRequest',
      'workerAbort',
      'workerExit',
      'workerInt',
    ]);
  });
});
