import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/registry.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { mergeReloadedConfig, targetAfterReload } from '../../src/master/reload/reload-config.js';

const config = (cli: Record<string, unknown>): Config =>
  resolveConfig({ env: {}, cli: { app: 'a.js', ...cli } }).config;
const TLS = { cert: 'C', key: 'K', ca: null };

describe('mergeReloadedConfig (HUP)', () => {
  it('takes the new value of a setting that may change on HUP, silently', () => {
    const { config: merged, notices } = mergeReloadedConfig(
      config({ timeout: 30, workers: 2 }),
      config({ timeout: 5, workers: 4 }),
      { ok: true, tls: null },
    );
    assert.equal(merged.timeout, 5);
    assert.equal(merged.workers, 4);
    assert.deepEqual(notices, []);
  });

  it('keeps the running value of a setting that needs a restart, with one warning naming it', () => {
    const running = config({ bind: ['127.0.0.1:8000'], backlog: 64, timeout: 30 });
    const { config: merged, notices } = mergeReloadedConfig(
      running,
      config({ bind: ['127.0.0.1:9000'], backlog: 64, timeout: 5 }),
      { ok: true, tls: null },
    );
    assert.deepEqual(merged.bind, running.bind);
    assert.equal(merged.timeout, 5);
    assert.deepEqual(notices, [
      {
        level: 'warn',
        fields: { setting: '--bind' },
        message: 'reload: --bind changed but needs a restart; keeping the running value',
      },
    ]);
  });

  it('does not warn about an unchanged restart-only setting', () => {
    const { notices } = mergeReloadedConfig(config({ backlog: 64 }), config({ backlog: 64 }), {
      ok: true,
      tls: TLS,
    });
    assert.deepEqual(notices, []);
  });

  it('takes new certificate files when they load', () => {
    const { config: merged, notices } = mergeReloadedConfig(
      config({ certfile: 'old.pem', keyfile: 'old.key' }),
      config({ certfile: 'new.pem', keyfile: 'new.key' }),
      { ok: true, tls: TLS },
    );
    assert.equal(merged.certfile, 'new.pem');
    assert.equal(merged.keyfile, 'new.key');
    assert.deepEqual(notices, []);
  });

  it('keeps the running certificate files when the new ones do not load, first in the log', () => {
    const { config: merged, notices } = mergeReloadedConfig(
      config({ certfile: 'old.pem', keyfile: 'old.key', backlog: 64 }),
      config({ certfile: 'bad.pem', keyfile: 'bad.key', caCerts: 'ca.pem', backlog: 128 }),
      { ok: false, error: '--certfile: cannot read bad.pem: ENOENT' },
    );
    assert.equal(merged.certfile, 'old.pem');
    assert.equal(merged.keyfile, 'old.key');
    assert.equal(merged.caCerts, null);
    assert.deepEqual(
      notices.map((n) => [n.level, n.message]),
      [
        [
          'error',
          'reload: --certfile: cannot read bad.pem: ENOENT; keeping the current certificate',
        ],
        ['warn', 'reload: --backlog changed but needs a restart; keeping the running value'],
      ],
    );
  });

  it('returns a frozen config and leaves both inputs alone', () => {
    const running = config({ backlog: 64 });
    const next = config({ backlog: 128 });
    const { config: merged } = mergeReloadedConfig(running, next, { ok: true, tls: null });
    assert.ok(Object.isFrozen(merged));
    assert.equal(running.backlog, 64);
    assert.equal(next.backlog, 128);
  });
});

describe('targetAfterReload (HUP after scale, TTIN, TTOU)', () => {
  it("keeps an operator's count unless the reload changes workers itself", () => {
    const base = { before: 2, after: 2, configured: 2 } as const;
    assert.deepEqual(targetAfterReload({ ...base, operator: 5 }), {
      target: 5,
      keptOperator: true,
    });
    assert.deepEqual(targetAfterReload({ ...base, operator: null }), {
      target: 2,
      keptOperator: false,
    });
    assert.deepEqual(targetAfterReload({ before: 2, after: 4, configured: 4, operator: 5 }), {
      target: 4,
      keptOperator: false,
    });
    assert.deepEqual(
      targetAfterReload({ before: 'auto', after: 'auto', configured: 2, operator: 3 }),
      {
        target: 3,
        keptOperator: true,
      },
    );
  });
});
