import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/tsgun.js';

// Runs the benchmark itself (wrk, real servers), so it lives with the integration tests.
describe('bench quick smoke', () => {
  it('runs the tsgun and bare Node rows end to end with identical bodies', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) {
      t.skip('wrk is not installed (.ci/run installs it)');
      return;
    }
    const run = spawnSync(
      process.execPath,
      [`${ROOT}dist/bench/run.js`, '--quick', '--only', 'tsgun,node'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(`${ROOT}bench/results/quick.json`, 'utf8')) as {
      rows: {
        id: string;
        skipped: string | null;
        throughput: { median: number };
        errors: number;
        bodySha256: string;
      }[];
    };
    assert.deepEqual(
      result.rows.map((r) => r.id),
      ['tsgun', 'node'],
    );
    for (const row of result.rows) {
      assert.equal(row.skipped, null);
      assert.ok(row.throughput.median > 0);
      assert.equal(row.errors, 0);
    }
    assert.equal(result.rows[0]!.bodySha256, result.rows[1]!.bodySha256);
  });

  // The dashboard cost row (issue 32): its client must really load the master while wrk runs.
  it('runs the tsgun-stats-dashboard row with a client that polled and streamed', async (t) => {
    if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) {
      t.skip('wrk is not installed (.ci/run installs it)');
      return;
    }
    const run = spawnSync(
      process.execPath,
      [`${ROOT}dist/bench/run.js`, '--quick', '--only', 'tsgun-stats-dashboard'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(`${ROOT}bench/results/quick.json`, 'utf8')) as {
      rows: { id: string; errors: number; companion: Record<string, number> | null }[];
    };
    const row = result.rows[0]!;
    assert.equal(row.id, 'tsgun-stats-dashboard');
    assert.equal(row.errors, 0);
    const c = row.companion!;
    assert.equal(c['page'], 1);
    assert.equal(c['streams'], 1);
    assert.equal(c['pollErrors'], 0);
    // --quick: a 1 s run and httperf's few seconds, so at least one poll after the first.
    assert.ok(c['polls']! >= 2, `polls: ${c['polls']}`);
    assert.ok(c['events']! >= 1, `events: ${c['events']}`);
  });

  // The --proxy-protocol cost rows (issue 31): HAProxy in front of both, one sending the header.
  it('runs the two rows behind HAProxy, with and without the PROXY header, serving the same body', async (t) => {
    for (const tool of ['wrk', 'haproxy'])
      if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
        t.skip(`${tool} is not installed (.ci/run installs it)`);
        return;
      }
    const run = spawnSync(
      process.execPath,
      [`${ROOT}dist/bench/run.js`, '--quick', '--only', 'tsgun-haproxy,tsgun-haproxy-pp'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(readFileSync(`${ROOT}bench/results/quick.json`, 'utf8')) as {
      rows: { id: string; skipped: string | null; errors: number; bodySha256: string }[];
    };
    assert.deepEqual(
      result.rows.map((r) => [r.id, r.skipped, r.errors]),
      [
        ['tsgun-haproxy', null, 0],
        ['tsgun-haproxy-pp', null, 0],
      ],
    );
    assert.equal(result.rows[0]!.bodySha256, result.rows[1]!.bodySha256);
  });
});
