import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prettyLine, usePretty } from '../../src/log/pretty.js';

describe('readable log lines', () => {
  it('time, level, who, message and code on one line; a code frame below', () => {
    const json = JSON.stringify({
      level: 50,
      time: '2026-01-02T03:04:05.678Z',
      pid: 42,
      role: 'worker',
      worker: 1,
      code: 'TSGUN_ERR_APP_LOAD',
      detail: '  2 | x(\n    |   ^',
      msg: 'cannot load app module a.mjs',
    });
    assert.equal(
      prettyLine(json, false),
      '2026-01-02 03:04:05.678 ERROR    [worker 1 42] cannot load app module a.mjs [TSGUN_ERR_APP_LOAD]\n      2 | x(\n        |   ^\n',
    );
  });

  it("names the worker a master's line is about, and colours only when asked", () => {
    const json = JSON.stringify({
      level: 30,
      time: '2026-01-02T03:04:05.678Z',
      pid: 7,
      role: 'master',
      worker: 2,
      workerPid: 9,
      msg: 'worker ready',
    });
    assert.equal(
      prettyLine(json, false),
      '2026-01-02 03:04:05.678 INFO     [master 7] worker ready (worker 2, pid 9)\n',
    );
    assert.ok(prettyLine(json, true).includes('\x1b[2m'), 'dim time');
    assert.equal(prettyLine('not json', false), 'not json\n');
  });

  it('auto is pretty only for stderr on a terminal', () => {
    assert.equal(usePretty('pretty', '/var/log/x'), true);
    assert.equal(usePretty('json', '-'), false);
    assert.equal(usePretty('auto', '/var/log/x'), false);
  });
});
