import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spareEnvDelta, startsMaster } from '../../src/master/children/spare.js';

describe('startsMaster: whether a command line is worth a spare worker', () => {
  it('is true for an app with options, false for subcommands, help, version and checks', () => {
    assert.equal(startsMaster(['app.js', '-w', '4'], {}), true);
    assert.equal(startsMaster(['-b', ':8000', 'app.js'], {}), true);
    for (const argv of [
      [],
      ['status'],
      ['stop', '--quick'],
      ['top'],
      ['help'],
      ['version'],
      ['app.js', '--help'],
      ['app.js', '-v'],
      ['app.js', '--check-config'],
      ['app.js', '--print-config'],
      ['app.js', '--print-config=json'],
    ])
      assert.equal(startsMaster(argv, {}), false, argv.join(' '));
  });

  it('is false when sockets are handed down (systemd, a USR2 upgrade): a child would inherit them', () => {
    assert.equal(startsMaster(['app.js'], { LISTEN_FDS: '1' }), false);
    assert.equal(startsMaster(['app.js'], { TSGUN_FD: '3' }), false);
  });
});

describe('spareEnvDelta: what a spare is told, or why it cannot be used', () => {
  const spare = { HOME: '/root', PORT: '3000', NODE_OPTIONS: '--x', TSGUN_SPARE: undefined };
  it("hands over tsgun's own variables", () => {
    const worker = {
      HOME: '/root',
      NODE_OPTIONS: '--x',
      PORT: '8000',
      TSGUN_WORKER_ID: '1',
      TSGUN_WORKER_CONFIG: '{}',
      TSGUN_WORKER_INDEX: '0',
      NODE_APP_INSTANCE: '0',
      // The master's platform check chose a fallback (platform/checks.ts).
      TSGUN_PLATFORM_FALLBACKS: 'books',
    };
    assert.deepEqual(spareEnvDelta(spare, worker), {
      env: {
        PORT: '8000',
        TSGUN_WORKER_ID: '1',
        TSGUN_WORKER_CONFIG: '{}',
        TSGUN_WORKER_INDEX: '0',
        NODE_APP_INSTANCE: '0',
        TSGUN_PLATFORM_FALLBACKS: 'books',
      },
    });
  });

  it('names the first other variable that differs, added, changed or removed', () => {
    assert.deepEqual(spareEnvDelta(spare, { ...spare, FOO: 'bar' }), { mismatch: 'FOO' });
    assert.deepEqual(spareEnvDelta(spare, { ...spare, NODE_OPTIONS: '--y' }), {
      mismatch: 'NODE_OPTIONS',
    });
    assert.deepEqual(spareEnvDelta(spare, { HOME: '/root', NODE_OPTIONS: '--x' }), {
      mismatch: 'PORT',
    });
  });
});
