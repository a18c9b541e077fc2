import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderEvents } from '../../src/cli/stats-client.js';
import {
  durationWindow,
  formatAge,
  formatBytes,
  formatMs,
  niceCeiling,
  quantileSeconds,
} from '../../src/master/stats/dashboard-math.js';
import { DASHBOARD_HTML } from '../../src/master/stats/dashboard-page.js';
import {
  EventRecorder,
  eventKind,
  resumeAfter,
  type TimelineEvent,
  toEvent,
} from '../../src/master/stats/event-recorder.js';
import { sseFrame } from '../../src/master/stats/events-stream.js';

const line = (level: number, msg: string, fields: object = {}) =>
  `${JSON.stringify({ level, time: '2026-01-01T00:00:00.000Z', pid: 1, role: 'master', msg, ...fields })}\n`;

describe('event recorder', () => {
  it('names the kind of each master record the timeline shows, and leaves the rest out', () => {
    const cases: [number, string, string | null][] = [
      [30, 'starting tsgun 1.0.0', 'start'],
      [30, 'booting worker', 'spawn'],
      [30, 'worker ready', 'ready'],
      [30, 'worker exited', 'exit'],
      [
        50,
        'worker 3 crashed (exit code 1) (pid:42); respawning (crash 2 in a row: waiting 200 ms)',
        'crash',
      ],
      [
        50,
        'worker failed to boot; 0 of 2 worker(s) serving, retrying in 300 ms (1 failed boot(s) in a row)',
        'backoff',
      ],
      [40, 'worker did not stop in time, killing it', 'kill'],
      [
        50,
        'WORKER TIMEOUT (pid:9): event loop blocked, killing it with 0 open connection(s)',
        'kill',
      ],
      [30, 'replacing worker: 1000 requests served (--max-requests)', 'recycle'],
      [30, 'reloading: replacing workers one at a time', 'reload'],
      [30, 'reload complete', 'reload-done'],
      [50, 'worker failed to boot; keeping 2 serving worker(s), reload aborted', 'reload-aborted'],
      [50, 'reload: config is invalid, keeping the current one', 'config-error'],
      [30, 'TTIN: one more worker', 'scale'],
      [30, 'scale: 4 worker(s)', 'scale'],
      [30, 'booting router', 'router'],
      [40, 'listen queue full on 127.0.0.1:8000: 511/511 connections waiting', 'queue-full'],
      [30, 'stopping gracefully', 'stop'],
      [40, 'something else went wrong', 'warning'],
      [50, 'cron exec: x failed', 'error'],
      [30, 'handling signal SIGHUP', null],
      [20, 'booting worker', null],
    ];
    for (const [level, msg, kind] of cases) assert.equal(eventKind(level, msg), kind, msg);
  });

  it('copies only well-typed fields and cuts long messages', () => {
    const e = toEvent(7, {
      level: 30,
      time: '2026-01-01T00:00:00.000Z',
      msg: `booting worker${'x'.repeat(1000)}`,
      worker: 3,
      workerPid: 'not a number',
      generation: 2,
      reason: { nested: true },
      secret: 'kept out',
    })!;
    assert.equal(e.seq, 7);
    assert.equal(e.kind, 'spawn');
    assert.equal(e.worker, 3);
    assert.equal(e.generation, 2);
    assert.equal(e.workerPid, undefined);
    assert.equal(e.reason, undefined);
    assert.ok(e.msg.length <= 403);
    assert.equal('secret' in e, false);
  });

  it('keeps the last N events with a sequence number, and survives lines that are not records', () => {
    const r = new EventRecorder(3, 2);
    r.line('not json\n');
    r.line('{"broken\n');
    r.line('null\n');
    r.line(line(30, 'handling signal SIGHUP'));
    for (let i = 0; i < 5; i++) r.line(line(30, 'booting worker', { workerPid: 100 + i }));
    assert.deepEqual(
      r.since(0).map((e) => [e.seq, e.workerPid]),
      [
        [3, 102],
        [4, 103],
        [5, 104],
      ],
    );
    assert.deepEqual(
      r.since(4).map((e) => e.seq),
      [5],
    );
  });

  it('tells listeners, bounded, and a throwing listener harms no other', () => {
    const r = new EventRecorder(10, 2);
    const seen: TimelineEvent[] = [];
    const off = r.subscribe(() => {
      throw new Error('client gone');
    });
    assert.ok(off);
    assert.ok(r.subscribe((e) => seen.push(e)));
    assert.equal(
      r.subscribe(() => {}),
      null,
      'a third listener is refused',
    );
    r.line(line(30, 'worker ready'));
    assert.equal(seen.length, 1);
    off();
    assert.equal(r.listening, 1);
  });

  it('resumes after Last-Event-ID from the same master, from the start from another', () => {
    assert.equal(resumeAfter('42-7', 42), 7);
    assert.equal(resumeAfter('41-7', 42), 0);
    assert.equal(resumeAfter(undefined, 42), 0);
    assert.equal(resumeAfter('garbage', 42), 0);
    const e = toEvent(5, { level: 30, msg: 'worker ready', time: 't' })!;
    assert.equal(sseFrame(42, e), `id: 42-5\ndata: ${JSON.stringify(e)}\n\n`);
  });
});

describe('dashboard helpers', () => {
  const bounds = [0.005, 0.01, 0.025, 0.05, 0.1];
  it('quantiles of a histogram window, linear within a bucket', () => {
    // 10 requests: 5 under 5 ms, 5 between 5 and 10 ms, none slower.
    const cumulative = [5, 10, 10, 10, 10, 10];
    assert.equal(quantileSeconds(bounds, cumulative, 0.5), 0.005);
    assert.ok(Math.abs(quantileSeconds(bounds, cumulative, 0.9)! - 0.009) < 1e-12);
    assert.equal(quantileSeconds(bounds, [0, 0, 0, 0, 0, 0], 0.5), null);
    // All in +Inf: the largest bound.
    assert.equal(quantileSeconds(bounds, [0, 0, 0, 0, 0, 4], 0.99), 0.1);
  });

  it('a window between two readings adds the classes, and is null when a count went down', () => {
    const before = { '2xx': { cumulative: [1, 2] }, '5xx': { cumulative: [0, 1] } };
    const after = { '2xx': { cumulative: [3, 5] }, '5xx': { cumulative: [1, 2] } };
    assert.deepEqual(durationWindow(before, after), [3, 4]);
    assert.equal(durationWindow(after, before), null);
    assert.equal(durationWindow(null, after), null);
  });

  it('formats numbers with units', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(3.5 * 1024 * 1024), '3.50 MiB');
    assert.equal(formatAge(45), '45 s');
    assert.equal(formatAge(3725), '1 h 2 min');
    assert.equal(formatMs(0.4213), '0.42 ms');
    assert.equal(formatMs(1200), '1.20 s');
    assert.equal(niceCeiling(37), 50);
    assert.equal(niceCeiling(0), 1);
    assert.equal(niceCeiling(101), 200);
  });

  it('the page is small, self-contained, and its script compiles', () => {
    assert.ok(
      Buffer.byteLength(DASHBOARD_HTML) < 30 * 1024,
      `${Buffer.byteLength(DASHBOARD_HTML)} bytes`,
    );
    assert.doesNotMatch(
      DASHBOARD_HTML,
      /(src|href)=["']?(https?:)?\/\//,
      'nothing from another host',
    );
    const script = /<script>([\s\S]*)<\/script>/.exec(DASHBOARD_HTML)![1]!;
    assert.doesNotThrow(() => new Function(script));
  });

  it("tsgun top's events lines", () => {
    const e = toEvent(3, {
      level: 30,
      time: '2026-01-02T03:04:05.678Z',
      msg: 'worker ready',
      workerPid: 77,
    })!;
    assert.equal(renderEvents([e]), '03:04:05 ready          worker ready (pid 77)\n');
  });
});
