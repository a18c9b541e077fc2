import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monotonicUsec, notifyMessage } from '../../src/master/host/notify.js';

describe('systemd notify messages', () => {
  it('ready names the main pid and the workers', () => {
    assert.deepEqual(notifyMessage({ kind: 'ready', pid: 42, workers: 4 }), [
      'READY=1',
      'MAINPID=42',
      'STATUS=4 worker(s) ready',
    ]);
  });
  it('reloading carries MONOTONIC_USEC (systemd >= 253, Type=notify-reload)', () => {
    assert.deepEqual(notifyMessage({ kind: 'reloading', monotonicUsec: 123n }), [
      'RELOADING=1',
      'MONOTONIC_USEC=123',
      'STATUS=reloading: replacing workers',
    ]);
  });
  it('reloaded and stopping', () => {
    assert.deepEqual(notifyMessage({ kind: 'reloaded', workers: 2, aborted: false }), [
      'READY=1',
      'STATUS=reload complete: 2 worker(s) ready',
    ]);
    assert.deepEqual(notifyMessage({ kind: 'reloaded', workers: 2, aborted: true }), [
      'READY=1',
      'STATUS=reload aborted: the old workers keep serving (see the log)',
    ]);
    assert.deepEqual(notifyMessage({ kind: 'stopping', mode: 'quick' }), [
      'STOPPING=1',
      'STATUS=stopping',
    ]);
  });
  it('the monotonic clock is the one /proc/uptime counts (CLOCK_MONOTONIC, not wall time)', async () => {
    const { readFileSync } = await import('node:fs');
    const uptimeUsec = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 1e6;
    // CLOCK_BOOTTIME (uptime) >= CLOCK_MONOTONIC; equal unless the machine has been suspended.
    assert.ok(Number(monotonicUsec()) <= uptimeUsec + 20_000);
  });
});
