import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { autoWorkers, type CpuFacts } from '../../src/master/host/cpus.js';

const facts = (over: Partial<CpuFacts>): CpuFacts => ({
  cpuMax: null,
  cfsQuota: null,
  cfsPeriod: null,
  available: 8,
  webConcurrency: undefined,
  ...over,
});

describe('-w auto', () => {
  it('uses the cgroup v2 quota, rounded up', () => {
    assert.equal(autoWorkers(facts({ cpuMax: '150000 100000' })).workers, 2);
    assert.equal(autoWorkers(facts({ cpuMax: '50000 100000' })).workers, 1);
  });
  it('caps the quota by the CPUs the process may run on', () => {
    assert.equal(autoWorkers(facts({ cpuMax: '1600000 100000', available: 4 })).workers, 4);
  });
  it('falls back to cgroup v1, then to the available CPUs', () => {
    assert.equal(
      autoWorkers(facts({ cpuMax: 'max 100000', cfsQuota: 300000, cfsPeriod: 100000 })).workers,
      3,
    );
    assert.equal(autoWorkers(facts({ cfsQuota: -1, cfsPeriod: 100000 })).workers, 8);
  });
  it('lets WEB_CONCURRENCY win, and says how the number was derived', () => {
    const r = autoWorkers(facts({ cpuMax: '200000 100000', webConcurrency: '5' }));
    assert.deepEqual(r, { workers: 5, how: 'WEB_CONCURRENCY=5' });
    assert.match(
      autoWorkers(facts({ cpuMax: '200000 100000' })).how,
      /cgroup v2 cpu\.max 200000\/100000 = 2\.00 CPU/,
    );
  });
});
