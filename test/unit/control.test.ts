import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type renderRespawn, renderStatus } from '../../src/cli/control-commands.js';
import {
  controlPathFor,
  MAX_WORKERS,
  parseControlAnswer,
  parseControlRequest,
} from '../../src/ipc/control.js';
import { processTitle } from '../../src/log/proc-title.js';

describe('control protocol', () => {
  it('accepts the four commands and refuses anything else with a reason', () => {
    assert.deepEqual(parseControlRequest('{"tsgun":1,"cmd":"status"}'), {
      tsgun: 1,
      cmd: 'status',
    });
    assert.deepEqual(parseControlRequest('{"tsgun":1,"cmd":"stop","quick":true}'), {
      tsgun: 1,
      cmd: 'stop',
      quick: true,
    });
    assert.deepEqual(parseControlRequest('{"tsgun":1,"cmd":"scale","workers":"auto"}'), {
      tsgun: 1,
      cmd: 'scale',
      workers: 'auto',
    });
    assert.throws(() => parseControlRequest('stop'), /not a JSON line/);
    assert.throws(() => parseControlRequest('{"cmd":"stop"}'), /not a tsgun control request/);
    assert.throws(() => parseControlRequest('{"tsgun":1,"cmd":"kill"}'), /unknown command "kill"/);
    for (const w of [0, -1, 1.5, '3', null, MAX_WORKERS + 1, 100_000])
      assert.throws(
        () => parseControlRequest(JSON.stringify({ tsgun: 1, cmd: 'scale', workers: w })),
        /workers must be an integer between 1 and 1024 or "auto"/,
      );
    assert.deepEqual(
      parseControlRequest(JSON.stringify({ tsgun: 1, cmd: 'scale', workers: MAX_WORKERS })),
      { tsgun: 1, cmd: 'scale', workers: MAX_WORKERS },
    );
    assert.equal(parseControlAnswer('{"ok":true}'), null);
    assert.equal(parseControlAnswer('{"tsgun":1,"ok":false,"pid":3}'), null);
    assert.deepEqual(parseControlAnswer('{"tsgun":1,"ok":true,"pid":3}'), {
      tsgun: 1,
      ok: true,
      pid: 3,
    });
  });

  it('finds the socket beside the pidfile', () => {
    assert.equal(controlPathFor('/run/app/app.pid'), '/run/app/app.ctl');
    assert.equal(controlPathFor('/run/app/master'), '/run/app/master.ctl');
    assert.equal(controlPathFor('tsgun.pid.d/x.pid'), 'tsgun.pid.d/x.ctl');
  });
});

describe('process titles and the status table', () => {
  it('names the role, the worker index and the name', () => {
    assert.equal(processTitle('master', 'shop'), 'tsgun: master [shop]');
    assert.equal(processTitle('worker', 'shop', 2), 'tsgun: worker 2 [shop]');
    assert.equal(processTitle('router', ''), 'tsgun: router');
  });

  it('renders one row per worker with its age', () => {
    const text = renderStatus({
      name: 'shop',
      version: '1.0.0',
      pid: 10,
      uptimeSeconds: 3725,
      targetWorkers: 2,
      workers: [
        {
          index: 0,
          pid: 11,
          state: 'ready',
          generation: 1,
          requests: 5,
          rssBytes: 52428800,
          ageSeconds: 75,
        },
        {
          index: 1,
          pid: 12,
          state: 'closing',
          generation: 1,
          requests: 0,
          rssBytes: 0,
          ageSeconds: 5,
        },
      ],
    });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'tsgun 1.0.0  shop  master 10  up 1h02m  workers 1/2');
    assert.match(lines[2]!, /^ +0 +11 ready +1 +5 +50\.0 +1m15s$/);
    assert.match(lines[3]!, /^ +1 +12 closing +1 +0 +0\.0 +5s$/);
  });

  it('says when missing workers are respawned, and after what', () => {
    const base = {
      name: 'shop',
      version: '1.0.0',
      pid: 10,
      uptimeSeconds: 5,
      targetWorkers: 2,
      workers: [],
    };
    const header = (respawn: Parameters<typeof renderRespawn>[0] | null) =>
      renderStatus({ ...base, respawn }).split('\n')[0];
    assert.equal(
      header({ missing: 2, failedBoots: 3, crashes: 5, inMs: 2100 }),
      'tsgun 1.0.0  shop  master 10  up 5s  workers 0/2  respawning in 3 s after 3 failed boot(s)',
    );
    assert.match(
      header({ missing: 1, failedBoots: 0, crashes: 2, inMs: 0 }) ?? '',
      /workers 0\/2 {2}respawning now after 2 crash\(es\) in a row$/,
    );
    assert.match(header(null) ?? '', /workers 0\/2$/);
  });
});
