import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyHistogram } from '../../src/ipc/histogram.js';
import {
  clip,
  describe as describeValue,
  isStatusDelta,
  jobNameProblem,
  MAX_APP_JOBS,
  MAX_TEXT,
  MAX_TIMINGS,
} from '../../src/ipc/limits.js';
import { workerCounters } from '../../src/ipc/protocol.js';
import { receiveFromWorker } from '../../src/ipc/receive.js';
import type { Logger } from '../../src/log/logger.js';
import { isChannelParseError } from '../../src/master/children/channel-guard.js';
import {
  FLOOD,
  MAX_BAD_MESSAGES,
  MAX_MESSAGES_PER_SECOND,
  SenderGuard,
} from '../../src/master/children/sender-guard.js';
import {
  admitMessage,
  BadMessage,
  dispatchWorkerMessage,
  runHandler,
  type Sender,
} from '../../src/master/children/worker-messages.js';
import { JobRuns } from '../../src/master/jobs/job-runs.js';
import { Scheduler } from '../../src/master/jobs/scheduler.js';
import { readJobs } from '../../src/worker/jobs.js';

const kind = (m: unknown) => receiveFromWorker(m).kind;

function stats(over: Record<string, unknown> = {}) {
  return {
    tsgun: 1,
    type: 'stats',
    requests: 1,
    inflight: 0,
    connections: 0,
    bytesOut: 0,
    responseMsTotal: 0,
    finished: 1,
    status5xx: 0,
    statusDelta: { 200: 1 },
    rssBytes: 1,
    heapUsedBytes: 1,
    loopLagP99Ms: 0,
    logLinesDropped: 0,
    proxyHeaderRefused: 0,
    durations: emptyHistogram(),
    timings: [1.5],
    ...over,
  };
}

/** A logger that keeps its lines. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (...a: unknown[]) => {
    lines.push(String(a.find((x) => typeof x === 'string') ?? ''));
  };
  const logger = { info: log, warn: log, error: log, debug: log, fatal: log } as unknown as Logger;
  return { logger, lines };
}

function sender(): Sender & { replaced: string[]; cutOff: string[] } {
  const replaced: string[] = [];
  const cutOff: string[] = [];
  return {
    guard: new SenderGuard(),
    name: 'worker 1',
    fields: { worker: 1 },
    replace: (reason) => replaced.push(reason),
    cut: (reason) => cutOff.push(reason),
    replaced,
    cutOff,
  };
}

describe('IPC limits: every message from a child is checked before use', () => {
  it('stats: finite non-negative counters, status-code keys, bounded timings', () => {
    assert.equal(kind(stats()), 'ours');
    for (const bad of [
      Number.NaN,
      -1,
      Number.POSITIVE_INFINITY,
      Number.MAX_VALUE,
      2 ** 53,
      '5',
      null,
    ])
      assert.equal(kind(stats({ requests: bad })), 'invalid', String(bad));
    assert.equal(kind(stats({ requests: Number.MAX_SAFE_INTEGER })), 'ours');
    for (const bad of [Number.NaN, -1, Number.POSITIVE_INFINITY, '5', null, undefined])
      assert.equal(kind(stats({ proxyHeaderRefused: bad })), 'invalid', String(bad));
    assert.equal(kind(stats({ statusDelta: { '2xx': 1 } })), 'invalid');
    assert.equal(kind(stats({ statusDelta: { 200: -1 } })), 'invalid');
    assert.equal(kind(stats({ statusDelta: [] })), 'invalid');
    const many = Object.fromEntries(Array.from({ length: 1e5 }, (_, i) => [`k${i}`, 1]));
    assert.equal(kind(stats({ statusDelta: many })), 'invalid');
    assert.equal(kind(stats({ timings: new Array(MAX_TIMINGS + 1).fill(1) })), 'invalid');
    assert.equal(kind(stats({ timings: [Number.NaN] })), 'invalid');
    assert.equal(kind(stats({ durations: { counts: [1], sums: [] } })), 'invalid');
    const h = emptyHistogram();
    h.counts[0] = Number.POSITIVE_INFINITY;
    assert.equal(kind(stats({ durations: h })), 'invalid');
    // --http2 in direct mode: optional, a count when present.
    assert.equal(kind(stats({ h2Requests: 3 })), 'ours');
    for (const bad of [Number.NaN, -1, '3', null])
      assert.equal(kind(stats({ h2Requests: bad })), 'invalid', String(bad));
    assert.equal(workerCounters(stats({ h2Requests: 3 }) as never).h2Requests, 3);
    assert.equal(Object.hasOwn(workerCounters(stats() as never), 'h2Requests'), false);
  });

  it('stats: only the fields of the protocol are kept', () => {
    const m = stats({ extra: 'x'.repeat(100) }) as never;
    assert.equal(Object.hasOwn(workerCounters(m), 'extra'), false);
    assert.equal(Object.hasOwn(workerCounters(m), 'type'), false);
  });

  it('jobs: a bounded list of names of a safe charset and bounded schedules', () => {
    const jobs = (list: unknown) => kind({ tsgun: 1, type: 'jobs', jobs: list });
    assert.equal(jobs([{ name: 'nightly report', schedule: '* * * * *' }]), 'ours');
    // node-cron decides about the expression in the master, where it cannot throw.
    assert.equal(jobs([{ name: 'x', schedule: 'nope' }]), 'ours');
    const many = Array.from({ length: MAX_APP_JOBS + 1 }, (_, i) => ({
      name: `j${i}`,
      schedule: '* * * * * *',
    }));
    assert.equal(jobs(many), 'invalid');
    assert.equal(jobs(many.slice(0, MAX_APP_JOBS)), 'ours');
    for (const name of ['', 'cron[0] reload', 'a\nb', ' x', 'x'.repeat(101), 3, null])
      assert.equal(jobs([{ name, schedule: '* * * * *' }]), 'invalid', JSON.stringify(name));
    assert.equal(jobs([{ name: 'x', schedule: 'x'.repeat(201) }]), 'invalid');
    assert.equal(jobs('x'), 'invalid');
    assert.equal(jobs([[[]]]), 'invalid');
  });

  it('router-stats, job-done, heartbeat, boot-error, retire: types and sizes', () => {
    const up = { name: 'w1', requests: 1, errors: 0, retries: 0, inflight: 0 };
    const rs = (over: Record<string, unknown>) =>
      kind({
        tsgun: 1,
        type: 'router-stats',
        upstreams: [up],
        pending: 0,
        connections: 0,
        h2Requests: 0,
        proxyHeaderRefused: 0,
        queue: { waiting: 0, highWater: 3, shedLimit: 1, shedTimeout: 2 },
        ...over,
      });
    assert.equal(rs({}), 'ours');
    assert.equal(rs({ upstreams: new Array(5000).fill(up) }), 'invalid');
    assert.equal(rs({ upstreams: [{ ...up, requests: -5 }] }), 'invalid');
    assert.equal(rs({ upstreams: [{ ...up, name: 'x'.repeat(2000) }] }), 'invalid');
    assert.equal(rs({ pending: Number.NaN }), 'invalid');
    assert.equal(rs({ h2Requests: -1 }), 'invalid');
    assert.equal(rs({ h2Requests: '1' }), 'invalid');
    assert.equal(rs({ proxyHeaderRefused: -1 }), 'invalid');
    assert.equal(rs({ proxyHeaderRefused: Number.POSITIVE_INFINITY }), 'invalid');
    assert.equal(rs({ proxyHeaderRefused: undefined }), 'invalid');
    assert.equal(rs({ queue: undefined }), 'invalid');
    assert.equal(rs({ queue: null }), 'invalid');
    assert.equal(rs({ queue: { waiting: 0, highWater: 0, shedLimit: 0 } }), 'invalid');
    assert.equal(
      rs({ queue: { waiting: -1, highWater: 0, shedLimit: 0, shedTimeout: 0 } }),
      'invalid',
    );
    assert.equal(
      rs({ queue: { waiting: 0, highWater: Infinity, shedLimit: 0, shedTimeout: 0 } }),
      'invalid',
    );
    assert.equal(
      rs({ queue: { waiting: 0, highWater: 0, shedLimit: '1', shedTimeout: 0 } }),
      'invalid',
    );
    const done = { tsgun: 1, type: 'job-done', runId: 1, ok: false, error: 'e', durationMs: 1 };
    assert.equal(kind(done), 'ours');
    assert.equal(kind({ ...done, runId: 1.5 }), 'invalid');
    assert.equal(kind({ ...done, error: 'e'.repeat(MAX_TEXT + 1) }), 'invalid');
    assert.equal(kind({ ...done, durationMs: -1 }), 'invalid');
    assert.equal(kind({ tsgun: 1, type: 'heartbeat', connections: Number.NaN }), 'invalid');
    assert.equal(kind({ tsgun: 1, type: 'heartbeat', connections: 1, requests: -1 }), 'invalid');
    const bootError = { tsgun: 1, type: 'boot-error', code: 'TSGUN_ERR_X', message: 'm' };
    assert.equal(kind(bootError), 'ours');
    assert.equal(kind({ ...bootError, message: 'm'.repeat(MAX_TEXT + 1) }), 'invalid');
    assert.equal(kind({ ...bootError, code: `TSGUN_ERR_${'X'.repeat(100)}` }), 'invalid');
    assert.equal(
      kind({ tsgun: 1, type: 'retire', reason: 'rss', detail: 'd'.repeat(MAX_TEXT + 1) }),
      'invalid',
    );
    assert.equal(kind({ tsgun: 1, type: 'upstreams-applied', seq: -1 }), 'invalid');
  });

  it('a reason never holds what the child sent in full, and cannot throw on deep nesting', () => {
    let deep: unknown = [];
    for (let i = 0; i < 1e5; i++) deep = [deep];
    const r = receiveFromWorker({ tsgun: 1, type: deep });
    assert.equal(r.kind, 'invalid');
    assert.match((r as { reason: string }).reason, /^unknown message type an array of 1$/);
    const long = receiveFromWorker({ tsgun: 1, type: 'y'.repeat(1e6) });
    assert.ok((long as { reason: string }).reason.length < 100);
    assert.equal(describeValue({ a: 1 }), 'object');
    assert.equal(receiveFromWorker({ tsgun: deep, type: 'ready' }).kind, 'invalid');
  });

  it('statusDelta, job names, clip', () => {
    assert.equal(isStatusDelta({ 200: 3, 503: 1 }), true);
    assert.equal(isStatusDelta({ __proto__: 1 }), true); // a literal __proto__ sets no key
    assert.equal(isStatusDelta(JSON.parse('{"__proto__": 1}')), false);
    assert.equal(jobNameProblem('ok-name_1.x:y@z/w'), null);
    assert.match(jobNameProblem('a;b') ?? '', /letters, digits/);
    assert.equal(clip('abc', 10), 'abc');
    assert.equal(clip('x'.repeat(20), 10).length, 10);
  });

  it('readJobs (the worker) refuses what the master would drop', () => {
    const run = () => {};
    assert.throws(() => readJobs([{ name: 'cron[0] reload', schedule: '* * * * *', run }], 'm'), {
      message: /jobs\[0\] name "cron\[0\] reload" may hold only/,
    });
    const many = Array.from({ length: MAX_APP_JOBS + 1 }, (_, i) => ({
      name: `j${i}`,
      schedule: '* * * * *',
      run,
    }));
    assert.throws(() => readJobs(many, 'm'), { message: /at most 100/ });
    assert.throws(() => readJobs([{ schedule: '* * * * *', run }], 'm'), {
      message: /jobs\[0\] needs a name/,
    });
  });
});

describe('SenderGuard: drop, log once a second, replace', () => {
  it('floods: past the rate the rest of the second is dropped, the sender replaced once', () => {
    const g = new SenderGuard();
    for (let i = 0; i < MAX_MESSAGES_PER_SECOND; i++) assert.equal(g.arrive(1000), true);
    assert.equal(g.arrive(1500), false);
    const first = g.reject(1500, FLOOD);
    assert.match(first.replace ?? '', /more than 1000 messages in a second/);
    assert.equal(first.log?.dropped, 1);
    assert.equal(g.arrive(1600), false);
    assert.deepEqual(g.reject(1600, FLOOD), { log: null, replace: null, cut: null });
    // Still flooding a second after it was told to go: cut off, once.
    const cut = g.reject(2600, FLOOD);
    assert.equal(cut.cut, 'still more than 1000 messages in a second');
    assert.equal(cut.log?.dropped, 2);
    assert.equal(g.reject(3700, FLOOD).cut, null);
  });

  it('bad messages: one line a second with the count, replaced after MAX_BAD_MESSAGES', () => {
    const g = new SenderGuard();
    assert.equal(g.reject(0, 'malformed stats message').log?.dropped, 1);
    for (let i = 1; i < MAX_BAD_MESSAGES - 1; i++) assert.equal(g.reject(i, 'x').log, null);
    const last = g.reject(100, 'x');
    assert.equal(last.replace, `${MAX_BAD_MESSAGES} bad messages`);
    assert.equal(last.log?.dropped, MAX_BAD_MESSAGES - 1);
    assert.equal(g.reject(2000, 'x').replace, null);
    for (let i = MAX_BAD_MESSAGES + 1; i < 2 * MAX_BAD_MESSAGES - 1; i++)
      assert.equal(g.reject(2000 + i, 'x').cut, null);
    assert.equal(g.reject(3000, 'x').cut, `${2 * MAX_BAD_MESSAGES} bad messages`);
    assert.equal(g.reject(4000, 'x').cut, null);
  });

  it('a handler that throws is logged, never held against the child', () => {
    const g = new SenderGuard();
    for (let i = 0; i < 3 * MAX_BAD_MESSAGES; i++)
      assert.equal(g.reject(i * 1000, 'bug', false).replace, null);
  });

  it('dispatch never throws: a throwing handler, a flood, garbage', () => {
    const { logger, lines } = recorder();
    const s = sender();
    const w = { id: 1, lastHeartbeat: 0 };
    const handlers = {
      ready: () => {
        throw new Error('boom');
      },
    };
    dispatchWorkerMessage(handlers, w, { tsgun: 1, type: 'ready' }, logger, s);
    assert.match(lines.at(-1) ?? '', /its ready message failed: boom/);
    for (const v of [null, 1, 'x', [], { tsgun: 1 }, { tsgun: 1, type: '__proto__' }])
      dispatchWorkerMessage(handlers, w, v, logger, s);
    for (let i = 0; i < 2 * MAX_MESSAGES_PER_SECOND; i++)
      admitMessage(s, { tsgun: 1, type: 'ready' }, logger, 5000);
    assert.equal(s.replaced.length, 1);
    assert.deepEqual(s.cutOff, []);
    for (let i = 0; i < 2 * MAX_MESSAGES_PER_SECOND; i++)
      admitMessage(s, { tsgun: 1, type: 'ready' }, logger, 6500);
    assert.deepEqual(s.cutOff, ['still more than 1000 messages in a second']);
  });

  it('a BadMessage from a handler is held against the child, any other error is not', () => {
    const { logger, lines } = recorder();
    const s = sender();
    for (let i = 0; i < MAX_BAD_MESSAGES; i++)
      runHandler(s, 'jobs', logger, () => {
        throw new BadMessage('jobs after ready or sent twice');
      });
    assert.deepEqual(s.replaced, [`${MAX_BAD_MESSAGES} bad messages`]);
    assert.match(lines[0] ?? '', /dropped a message from worker 1: jobs after ready or sent twice/);
  });

  it('job-done ends a run only from the worker that holds it', () => {
    const finished: string[] = [];
    const scheduler = { finish: (name: string) => finished.push(name) } as unknown as Scheduler;
    const child = { send: () => true } as never;
    const runs = new JobRuns(scheduler, () => [{ id: 7, child }]);
    assert.equal(runs.dispatch('nightly'), true);
    runs.done(8, 1, true, null, 1);
    assert.deepEqual(finished, []);
    runs.done(7, 1, true, null, 1);
    assert.deepEqual(finished, ['nightly']);
  });

  it('a channel parse error is told from any other error by its frames', () => {
    const e = new SyntaxError('Unexpected token');
    e.stack =
      'SyntaxError: x\n    at parse (<anonymous>)\n    at parseChannelMessages (node:internal/child_process/serialization:157:15)';
    assert.equal(isChannelParseError(e), true);
    assert.equal(isChannelParseError(new Error('other')), false);
    assert.equal(isChannelParseError('parseChannelMessages'), false);
  });
});

describe('Scheduler: app jobs in their own namespace, node-cron never throws into it', () => {
  it('refuses what node-cron refuses, with a line; an app job never replaces a --cron entry', () => {
    const { logger, lines } = recorder();
    const s = new Scheduler(null, logger);
    s.setCron([{ spec: '0 0 1 1 *', action: { kind: 'reload' } } as never], () =>
      Promise.resolve({ ok: true, error: null }),
    );
    const cronName = s.views()[0]!.name;
    s.setAppJobs(
      [
        { name: 'x', schedule: 'nope' },
        { name: cronName, schedule: '0 0 1 1 *' },
        { name: 'ok', schedule: '0 0 1 1 *' },
        { name: 'ok', schedule: '0 0 2 1 *' },
      ],
      () => true,
    );
    assert.ok(lines.some((l) => /app job x not scheduled: invalid cron schedule "nope"/.test(l)));
    const views = s.views();
    assert.deepEqual(
      views.map((v) => [v.source, v.name]),
      [
        ['cron', cronName],
        ['app', cronName],
        ['app', 'ok'],
      ],
    );
    s.finish(cronName, true, null, 1);
    assert.equal(s.views().find((v) => v.source === 'cron')!.runs, 0);
    s.stop();
  });
});
