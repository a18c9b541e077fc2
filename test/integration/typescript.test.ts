import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { getJson } from '../helpers/http.js';
import { fixture, killAll, plainLines, runTsgun, Tsgun } from '../helpers/tsgun.js';

after(killAll);

// The runner is the Node under test (.ci/run puts each LTS first on PATH): 22.18+ and 24 strip
// types by default, 20 and older 22s do not.
const strips = Boolean((process.features as { typescript?: unknown }).typescript);
const needsStripping = strips ? false : `Node ${process.version} does not strip types`;
const ts = (name: string) => fixture(`typescript/${name}`);
// On a Node that strips types, this turns it off: the error path is tested on every version.
const noStripping = strips ? { NODE_OPTIONS: '--no-experimental-strip-types' } : {};

async function servesForms(t: Tsgun, workers: number): Promise<Set<string>> {
  await t.waitForReady(workers);
  const url = await t.url();
  const forms = new Set<string>();
  const pids = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const reply = await getJson<{ form: string; pid: number }>(url);
    forms.add(reply.form);
    pids.add(reply.pid);
  }
  for (const pid of pids) assert.ok(t.liveWorkerPids().includes(pid), `pid ${pid} is no worker`);
  t.signal('SIGTERM');
  assert.equal((await t.exited).code, 0);
  return forms;
}

describe('TypeScript entry files', () => {
  it('a .ts app in the listen() form, written for cluster, is served by 2 workers', {
    skip: needsStripping,
  }, async () => {
    const t = new Tsgun([ts('listen.ts'), '-b', '127.0.0.1:0', '-w', '2']);
    await t.waitForReady(2);
    const reply = await getJson<{ form: string; clusterId: number }>(await t.url());
    assert.equal(reply.form, 'listen');
    assert.ok(reply.clusterId > 0, 'the app runs as a cluster worker');
    assert.deepEqual(await servesForms(t, 2), new Set(['listen']));
  });

  it('.mts and .cts apps in the export form are served', { skip: needsStripping }, async () => {
    for (const [file, form] of [
      ['export.mts', 'export'],
      ['export.cts', 'export-cjs'],
    ] as const) {
      const t = new Tsgun([ts(file), '-b', '127.0.0.1:0', '-w', '2']);
      assert.deepEqual(await servesForms(t, 2), new Set([form]));
    }
  });

  it('tsgun.config.ts in the current directory is read by the master and each worker', {
    skip: needsStripping,
  }, async () => {
    const t = new Tsgun([ts('export.mts')], { cwd: ts('config') });
    await t.waitForLog((l) =>
      l.msg.startsWith(`using config file ${ts('config/tsgun.config.ts')}`),
    );
    // workers: 2 and bind from the file; the postWorkerInit hook runs in each worker.
    const hooks = await Promise.all(
      [1, 2].map((id) =>
        t.waitForLog((l) => l.msg === 'fixture: ts config hook' && l['worker'] === id),
      ),
    );
    assert.equal(hooks.length, 2);
    assert.deepEqual(await servesForms(t, 2), new Set(['export']));
  });

  it('on a Node that cannot strip types: one line, exit 4, before anything is bound or forked', async () => {
    for (const file of ['listen.ts', 'export.mts', 'export.cts']) {
      const r = await runTsgun([ts(file), '-b', '127.0.0.1:0', '-w', '2'], { env: noStripping });
      assert.equal(r.code, 4, r.stderr);
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0]!,
        /^tsgun: error: app .+ is TypeScript and Node v[\d.]+ cannot run it: use Node 22\.18\+ or 24 .*compile it to JavaScript.*--import tsx.* \[TSGUN_ERR_TYPESCRIPT\]$/,
      );
      assert.ok(!r.stderr.includes('"role":"worker"'), 'a worker was forked');
    }
    const r = await runTsgun([ts('export.mts')], { env: noStripping, cwd: ts('config') });
    assert.equal(r.code, 4, r.stderr);
    assert.match(
      plainLines(r.stderr).join('\n'),
      /^tsgun: error: config file tsgun\.config\.ts is TypeScript and Node .* \[TSGUN_ERR_TYPESCRIPT\]$/,
    );
  });
});
