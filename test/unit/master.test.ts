import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import {
  BACKOFF_CAP_MS,
  CRASH_WINDOW_MS,
  type CrashStreak,
  findOverdue,
  findTimedOut,
  missingWorkers,
  nextCrashStreak,
  planWorkers,
  respawnState,
  stopSignal,
  type WorkerView,
} from '../../src/master/decisions/plan.js';
import { parseProcNetTcp, readListeningRows } from '../../src/master/host/proc-net.js';
import {
  classifyBootFailure,
  classifyExit,
  describeExit,
} from '../../src/master/workers/classify.js';
import { BUSY_REPEAT_MS, busyLine, portHolder } from '../../src/master/workers/worker-notices.js';

let nextId = 1;
function worker(over: Partial<WorkerView> = {}): WorkerView {
  const id = nextId++;
  return {
    id,
    generation: 1,
    state: 'ready',
    retiring: false,
    spawnedAt: id,
    lastHeartbeat: 1000,
    closingSince: null,
    ...over,
  };
}
const plan = (workers: WorkerView[], target = 2, generation = 1, spawnAllowed = true) =>
  planWorkers({ workers, target, generation, spawnAllowed, batch: 1 });

describe('planWorkers', () => {
  it('spawns every missing worker at once at boot or after crashes', () => {
    assert.deepEqual(plan([], 3), [{ kind: 'spawn', count: 3 }]);
    assert.deepEqual(plan([worker()], 3), [{ kind: 'spawn', count: 2 }]);
  });

  it('does nothing when the count is right', () => {
    assert.deepEqual(plan([worker(), worker()]), []);
  });

  it('counts booting workers, so it does not spawn twice', () => {
    assert.deepEqual(plan([worker(), worker({ state: 'booting' })]), []);
  });

  it('ignores closing workers when counting', () => {
    assert.deepEqual(plan([worker(), worker({ state: 'closing', closingSince: 1 })]), [
      { kind: 'spawn', count: 1 },
    ]);
  });

  it('TTOU: stops the oldest extra workers, but not while one boots', () => {
    const a = worker({ spawnedAt: 1 });
    const b = worker({ spawnedAt: 2 });
    const c = worker({ spawnedAt: 3 });
    assert.deepEqual(plan([c, b, a], 1), [{ kind: 'stop', ids: [a.id, b.id] }]);
    assert.deepEqual(plan([a, b, worker({ state: 'booting' })], 1), []);
  });

  it('reload: one new worker at a time, and an old one stops only after the new one is ready', () => {
    const old1 = worker({ generation: 1 });
    const old2 = worker({ generation: 1 });
    // Step 1: spawn one replacement.
    assert.deepEqual(plan([old1, old2], 2, 2), [{ kind: 'spawn', count: 1 }]);
    // Step 2: it is booting: wait.
    const new1 = worker({ generation: 2, state: 'booting' });
    assert.deepEqual(plan([old1, old2, new1], 2, 2), []);
    // Step 3: it is ready: stop the oldest old worker.
    const ready1 = { ...new1, state: 'ready' as const };
    assert.deepEqual(plan([old1, old2, ready1], 2, 2), [{ kind: 'stop', ids: [old1.id] }]);
    // Step 4: the old one is closing: spawn the next replacement.
    const closing = { ...old1, state: 'closing' as const, closingSince: 5 };
    assert.deepEqual(plan([closing, old2, ready1], 2, 2), [{ kind: 'spawn', count: 1 }]);
  });

  it('never lets capacity drop below target during a reload', () => {
    const olds = [worker(), worker(), worker()];
    for (const action of plan(olds, 3, 2)) assert.notEqual(action.kind, 'stop');
  });

  it('replaces a retiring (max-requests) worker like an old one', () => {
    const retiring = worker({ retiring: true });
    const other = worker();
    assert.deepEqual(plan([retiring, other]), [{ kind: 'spawn', count: 1 }]);
    const fresh = worker();
    assert.deepEqual(plan([retiring, other, fresh]), [{ kind: 'stop', ids: [retiring.id] }]);
  });

  it('spawns nothing during a crash backoff', () => {
    assert.deepEqual(plan([worker()], 3, 1, false), []);
  });

  it('while boots fail: one attempt at a time, for any number missing', () => {
    const probe = (workers: WorkerView[], target: number) =>
      planWorkers({ workers, target, generation: 1, spawnAllowed: true, probe: true, batch: 1 });
    assert.deepEqual(probe([], 4), [{ kind: 'spawn', count: 1 }]);
    assert.deepEqual(probe([worker()], 4), [{ kind: 'spawn', count: 1 }]);
    assert.deepEqual(probe([worker(), worker({ state: 'booting' })], 4), []);
    assert.deepEqual(probe([worker(), worker()], 2), []);
  });
});

describe('findTimedOut and findOverdue', () => {
  it('finds workers without a heartbeat for longer than the timeout; 0 disables', () => {
    const late = worker({ lastHeartbeat: 0 });
    const fine = worker({ lastHeartbeat: 900 });
    assert.deepEqual(findTimedOut([late, fine], 1000, 500), [late.id]);
    assert.deepEqual(findTimedOut([late, fine], 1000, 0), []);
  });
  it('finds closing workers past the graceful timeout', () => {
    const overdue = worker({ state: 'closing', closingSince: 0 });
    const recent = worker({ state: 'closing', closingSince: 900 });
    assert.deepEqual(findOverdue([overdue, recent, worker()], 1000, 500), [overdue.id]);
  });
});

describe('stopSignal', () => {
  it('sends each stop signal once: no second TERM to a draining worker, QUIT after TERM, nothing after QUIT', () => {
    assert.equal(stopSignal(null, 'graceful'), 'SIGTERM');
    assert.equal(stopSignal(null, 'quick'), 'SIGQUIT');
    assert.equal(stopSignal('SIGTERM', 'graceful'), null);
    assert.equal(stopSignal('SIGTERM', 'quick'), 'SIGQUIT');
    assert.equal(stopSignal('SIGQUIT', 'graceful'), null);
    assert.equal(stopSignal('SIGQUIT', 'quick'), null);
  });
});

describe('nextCrashStreak (crash-loop backoff)', () => {
  const start: CrashStreak = {
    count: 0,
    lastCrashAt: Number.NEGATIVE_INFINITY,
    resumeAt: Number.NEGATIVE_INFINITY,
  };
  /** The delays of crashes at these times, each fed the streak the previous one returned. */
  const delays = (times: readonly number[]) => {
    let streak = start;
    return times.map((now) => {
      const next = nextCrashStreak(streak, now);
      streak = next.streak;
      return next.delayMs;
    });
  };

  it('respawns after a first crash at once', () => {
    assert.deepEqual(nextCrashStreak(start, 5000), {
      streak: { count: 1, lastCrashAt: 5000, resumeAt: 5000 },
      delayMs: 0,
    });
  });

  it('doubles the wait from 100 ms for each further crash in the window, up to the cap', () => {
    const times = Array.from({ length: 11 }, (_, i) => 1000 + i * 50);
    assert.deepEqual(
      delays(times),
      [0, 100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000],
    );
    assert.equal(BACKOFF_CAP_MS, 10_000);
  });

  it('measures the window from the end of the previous wait, not the first crash', () => {
    const step = CRASH_WINDOW_MS - 1;
    assert.deepEqual(delays([0, step, 2 * step + 100, 3 * step + 300]), [0, 100, 200, 400]);
    assert.deepEqual(delays([0, CRASH_WINDOW_MS]), [0, 100], 'exactly the window still counts');
  });

  it('a retry that fails right after a wait at the cap stays at the cap (no new quick streak)', () => {
    // A worker that cannot boot: each attempt fails a moment after its wait ends.
    let streak = start;
    let now = 0;
    const seen: number[] = [];
    for (let i = 0; i < 14; i++) {
      const next = nextCrashStreak(streak, now);
      streak = next.streak;
      seen.push(next.delayMs);
      now += next.delayMs + 300;
    }
    assert.deepEqual(seen.slice(8), Array(6).fill(BACKOFF_CAP_MS));
  });

  it('starts a new streak after a quiet window', () => {
    const quiet = CRASH_WINDOW_MS + 1;
    assert.deepEqual(delays([0, 10, 20, 220 + quiet, 230 + quiet]), [0, 100, 200, 0, 100]);
    const { streak } = nextCrashStreak({ count: 7, lastCrashAt: 0, resumeAt: 0 }, quiet);
    assert.deepEqual(streak, { count: 1, lastCrashAt: quiet, resumeAt: quiet });
  });
});

describe('classifyBootFailure', () => {
  it('halts a start where no worker was ever ready (WORKER_BOOT_ERROR)', () => {
    assert.equal(classifyBootFailure({ everReady: false, reloading: false, serving: 0 }), 'halt');
  });
  it('aborts a reload while older workers serve', () => {
    assert.equal(
      classifyBootFailure({ everReady: true, reloading: true, serving: 2 }),
      'abort-reload',
    );
  });
  it('retries once the service has served, even with no worker left', () => {
    assert.equal(classifyBootFailure({ everReady: true, reloading: false, serving: 0 }), 'retry');
    assert.equal(classifyBootFailure({ everReady: true, reloading: false, serving: 1 }), 'retry');
    assert.equal(classifyBootFailure({ everReady: true, reloading: true, serving: 0 }), 'retry');
  });
});

describe('respawnState (tsgun status)', () => {
  const facts = { missing: 2, failedBoots: 3, crashes: 5, resumeAt: 4500, now: 1000 };
  it('says how many are missing, after what, and when the next attempt is', () => {
    assert.deepEqual(respawnState(facts), { missing: 2, failedBoots: 3, crashes: 5, inMs: 3500 });
    assert.equal(respawnState({ ...facts, resumeAt: 0 })?.inMs, 0);
    assert.equal(respawnState({ ...facts, resumeAt: Number.POSITIVE_INFINITY })?.inMs, 0);
  });
  it('is null when the count is whole', () => {
    assert.equal(respawnState({ ...facts, missing: 0 }), null);
  });
});

describe('missingWorkers', () => {
  it('counts the current workers short of the target: booting ones count, closing ones not', () => {
    assert.equal(missingWorkers([worker(), worker({ state: 'booting' })], 3, 1), 1);
    assert.equal(
      missingWorkers([worker(), worker({ state: 'closing', closingSince: 1 })], 2, 1),
      1,
    );
  });
  it('a stale or retiring worker still needs its replacement', () => {
    assert.equal(missingWorkers([worker({ generation: 1 }), worker({ generation: 2 })], 2, 2), 1);
    assert.equal(missingWorkers([worker({ retiring: true }), worker()], 2, 1), 1);
  });
  it('none after WINCH (target 0) or while a scale-down is under way', () => {
    assert.equal(missingWorkers([worker()], 0, 1), 0);
    assert.equal(missingWorkers([worker(), worker(), worker()], 2, 1), 0);
  });
});

describe('classifyExit', () => {
  const base = {
    notReadyAfter: null,
    code: 1,
    signal: null,
    bootError: null,
    masterStopping: false,
    murdered: false,
  } as const;
  it('an exit the master asked for is expected', () => {
    assert.equal(classifyExit({ ...base, state: 'closing' }).kind, 'expected');
    assert.equal(classifyExit({ ...base, state: 'ready', masterStopping: true }).kind, 'expected');
  });
  it('a ready worker that dies crashed', () => {
    const v = classifyExit({ ...base, state: 'ready', code: null, signal: 'SIGKILL' });
    assert.deepEqual(v, {
      kind: 'crash',
      message: 'worker was killed by SIGKILL (perhaps out of memory?)',
    });
  });
  it('a booting worker that dies is a boot failure with its reported error and exit code', () => {
    const v = classifyExit({
      ...base,
      state: 'booting',
      code: 4,
      bootError: { code: 'TSGUN_ERR_APP_LOAD', message: 'boom' },
    });
    assert.deepEqual(v, {
      kind: 'boot-failure',
      exitCode: 4,
      code: 'TSGUN_ERR_APP_LOAD',
      message: 'boom',
    });
    const silent = classifyExit({ ...base, state: 'booting', code: 7 });
    assert.equal(silent.kind, 'boot-failure');
    assert.equal(silent.kind === 'boot-failure' && silent.exitCode, 3);
  });
  it('a worker murdered while booting is a crash, not a halt', () => {
    assert.equal(classifyExit({ ...base, state: 'booting', murdered: true }).kind, 'crash');
  });
  it('describes exits', () => {
    assert.equal(describeExit(2, null), 'exited with code 2');
    assert.equal(describeExit(null, 'SIGTERM'), 'was killed by SIGTERM');
  });
});

describe('parseProcNetTcp', () => {
  it('reads state, accept queue and inode', () => {
    const text = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
`;
    assert.deepEqual(parseProcNetTcp(text), [
      { state: '0A', rxQueue: 3, inode: '4242', localPort: 8080 },
      { state: '01', rxQueue: 0, inode: '4343', localPort: 8080 },
    ]);
  });
});

describe('readListeningRows', () => {
  it('reads the LISTEN rows the kernel prints first, and stops at the first other row', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const header =
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
    const row = (st: string, rx: string, inode: number) =>
      `   0: 0100007F:1F90 00000000:0000 ${st} 00000000:${rx} 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
    // Many rows after the listening ones, as on a busy server: none of them may be parsed.
    const file = join(mkdtempSync(join(tmpdir(), 'tsgun-')), 'tcp');
    writeFileSync(
      file,
      header +
        row('0A', '00000002', 1) +
        row('0A', '00000000', 2) +
        row('06', '00000000', 3).repeat(5000) +
        row('0A', '00000009', 4),
    );
    assert.deepEqual(readListeningRows(file), [
      { state: '0A', rxQueue: 2, inode: '1', localPort: 8080 },
      { state: '0A', rxQueue: 0, inode: '2', localPort: 8080 },
    ]);
  });
});

describe('who holds a port the app listens on', () => {
  it('a worker (by its sockets), another process, or unknown when nothing listens', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      assert.deepEqual(portHolder(port, [{ id: 7, pid: process.pid }]), { kind: 'worker', id: 7 });
      assert.deepEqual(portHolder(port, []), { kind: 'foreign' });
      // A worker that has exited holds nothing.
      assert.deepEqual(portHolder(port, [{ id: 1, pid: 2 ** 22 + 1 }]), { kind: 'foreign' });
    } finally {
      server.close();
    }
    await once(server, 'close');
    assert.deepEqual(portHolder(port, [{ id: 7, pid: process.pid }]), { kind: 'unknown' });
  });
});

describe('busy-port lines', () => {
  const foreign = { kind: 'foreign' } as const;
  it('another process: one line, then at most one a minute with the failures since', () => {
    const first = busyLine(undefined, ':9100', 1, foreign, 0);
    assert.match(first.line!, /^:9100 is held by another process \(not a tsgun worker\): /);
    let state = first.next;
    for (let t = 1000; t < BUSY_REPEAT_MS; t += 10_000) {
      const r = busyLine(state, ':9100', 10, foreign, t);
      assert.equal(r.line, null);
      state = r.next;
    }
    const again = busyLine(state, ':9100', 10, foreign, BUSY_REPEAT_MS + 1);
    assert.equal(
      again.line,
      ":9100 is still held by another process (not a tsgun worker): 70 failed attempts of the app's listen() in the last minute",
    );
    assert.equal(busyLine(again.next, ':9100', 1, foreign, BUSY_REPEAT_MS + 2).line, null);
  });
  it('another worker: said once, and again only when the holder changes kind', () => {
    const w = { kind: 'worker', id: 2 } as const;
    const first = busyLine(undefined, ':9100', 1, w, 0);
    assert.equal(
      first.line,
      ':9100 is in use (worker 2 holds it): the other workers serve without it and try again every second',
    );
    assert.equal(busyLine(first.next, ':9100', 5, w, 10 * BUSY_REPEAT_MS).line, null);
    assert.match(busyLine(first.next, ':9100', 5, foreign, 1).line!, /held by another process/);
  });
});
