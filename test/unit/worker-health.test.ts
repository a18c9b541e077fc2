import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/registry.js';
import { ErrorCode, ExitCode } from '../../src/errors.js';
import type { Logger } from '../../src/log/logger.js';
import { zeroMasterCounts } from '../../src/master/stats/master-stats.js';
import type { ExitClass } from '../../src/master/workers/classify.js';
import { type HealthHost, WorkerHealth } from '../../src/master/workers/worker-health.js';
import type { WorkerRecord } from '../../src/master/workers/worker-record.js';

/** A worker as the health sees it: its state, generation and what it reported. */
function worker(id: number, state: WorkerRecord['state'], generation: number): WorkerRecord {
  return { id, pid: 1000 + id, state, generation, bootError: null } as unknown as WorkerRecord;
}

/** WorkerHealth over a table of `workers`, with a host that records what it is told. */
function setup(target = 2) {
  const workers: WorkerRecord[] = [];
  const said: string[] = [];
  const log = (...a: unknown[]) => said.push(String(a.find((x) => typeof x === 'string')));
  const logger = { info: log, warn: log, error: log, debug: log } as unknown as Logger;
  const halts: { exitCode: number; code: string }[] = [];
  const reloads: boolean[] = [];
  const hooks: string[] = [];
  const host: HealthHost = {
    logger,
    wake: () => {},
    halt: (exitCode, _message, code) => halts.push({ exitCode, code }),
    config: () => ({ errorLogfile: '-', logLevel: 'info' }) as Config,
    target: () => target,
    hook: (name) => hooks.push(name),
    reloaded: (aborted) => reloads.push(aborted),
  };
  const table = {
    generation: 1,
    views: () => workers,
    missing: () => Math.max(0, target - workers.filter((w) => w.state !== 'closing').length),
    live: () => workers.filter((w) => w.state !== 'closing').length,
    get size() {
      return workers.length;
    },
  };
  const counts = zeroMasterCounts();
  const health = new WorkerHealth(host, { counts }, table);
  return { health, workers, table, said, halts, reloads, hooks, counts };
}

/** One worker of generation 1 serves; a HUP starts generation 2. */
function servingThenHup() {
  const s = setup(1);
  s.workers.push(worker(1, 'ready', 1));
  s.health.ready();
  s.table.generation = 2;
  s.health.rollout();
  return s;
}

const bootFailure: ExitClass = {
  kind: 'boot-failure',
  exitCode: ExitCode.APP_LOAD,
  code: ErrorCode.APP_LOAD,
  message: 'cannot import the app',
};

describe('WorkerHealth', () => {
  it('a boot failure before any worker was ready halts with its code', () => {
    const s = setup();
    const w = worker(1, 'booting', 1);
    s.health.exited(w, bootFailure, {});
    assert.deepEqual(s.halts, [{ exitCode: ExitCode.APP_LOAD, code: ErrorCode.APP_LOAD }]);
    assert.equal(s.health.planFacts(0).probe, true);
  });

  it('whenReady runs once, when the target is first reached; failed boots are forgotten', () => {
    const s = setup(2);
    s.workers.push(worker(1, 'ready', 1));
    s.health.ready();
    assert.deepEqual(s.hooks, []);
    s.workers.push(worker(2, 'ready', 1));
    s.health.ready();
    s.health.ready();
    assert.deepEqual(s.hooks, ['whenReady']);
    assert.equal(s.health.planFacts(0).probe, false);
  });

  it('a HUP rollout is complete once nothing boots and nothing older is left', () => {
    const s = servingThenHup();
    s.workers.push(worker(2, 'booting', 2));
    s.health.checkRollout();
    assert.deepEqual(s.reloads, []);
    s.workers.splice(0, 2, worker(2, 'ready', 2));
    s.health.checkRollout();
    s.health.checkRollout();
    assert.deepEqual(s.reloads, [false]);
    assert.ok(s.said.includes('reload complete'));
  });

  it('a boot failure in a rollout while older workers serve aborts it, and they stay', () => {
    const s = servingThenHup();
    s.health.exited(worker(2, 'booting', 2), bootFailure, {});
    assert.deepEqual(s.halts, []);
    assert.deepEqual(s.reloads, [true]);
    // The old code is now the current generation: nothing is replaced, nothing left to roll out.
    assert.equal(s.workers[0]!.generation, 2);
    s.health.checkRollout();
    assert.deepEqual(s.reloads, [true]);
    assert.ok(s.said.some((l) => l.endsWith('keeping 1 serving worker(s), reload aborted')));
  });

  it('a crash after booting is respawned under the backoff, or not when none is missing', () => {
    const s = setup(1);
    s.workers.push(worker(1, 'ready', 1));
    s.health.ready();
    s.workers.pop();
    s.health.exited(worker(1, 'ready', 1), { kind: 'crash', message: 'worker died' }, {});
    assert.equal(s.counts.respawns, 1);
    assert.deepEqual(s.health.respawn(Date.now())?.missing, 1);
    s.workers.push(worker(2, 'ready', 1));
    s.health.exited(worker(3, 'ready', 1), { kind: 'crash', message: 'worker died' }, {});
    assert.equal(s.counts.respawns, 1);
    assert.ok(s.said.some((l) => l.includes('not respawned: 1 of 1 worker(s) running')));
  });

  it('a failed fork halts before any worker was ready, and is retried after', () => {
    const first = setup(1);
    first.health.forkFailed(1, new Error('EAGAIN'));
    assert.deepEqual(first.halts, [{ exitCode: ExitCode.WORKER_BOOT, code: ErrorCode.FORK }]);
    const later = setup(1);
    later.workers.push(worker(1, 'ready', 1));
    later.health.ready();
    later.workers.pop();
    later.health.forkHeld();
    assert.equal(later.health.planFacts(Date.now()).spawnAllowed, false);
    later.health.forkFailed(2, new Error('EAGAIN'));
    assert.deepEqual(later.halts, []);
    assert.equal(later.counts.forkFailures, 1);
  });
});
