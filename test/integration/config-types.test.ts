import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ROOT } from '../helpers/tsgun.js';

// A user's project: `tsgun` in node_modules (a link to this package, so its package.json
// `exports`/`types` and the built .d.ts files are what resolves), type-checked by a real tsc.
const project = mkdtempSync(join(tmpdir(), 'tsgun-types-'));
after(() => rmSync(project, { recursive: true, force: true }));
mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
symlinkSync(ROOT, join(project, 'node_modules', 'tsgun'));
symlinkSync(join(ROOT, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'));
writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }));
writeFileSync(
  join(project, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2022',
      strict: true,
      noEmit: true,
      types: ['node'],
    },
    include: ['*.ts'],
  }),
);

/** One tsc run over the given files (they replace the previous run's). */
function typeCheck(files: Record<string, string>): { ok: boolean; output: string } {
  for (const entry of readdirSync(project)) if (entry.endsWith('.ts')) rmSync(join(project, entry));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(project, name), text);
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project, '--pretty', 'false'],
    { cwd: project, encoding: 'utf8', timeout: 60_000 },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const GOOD = `import { type AppJob, defineConfig, type Settings } from 'tsgun';

export const jobs: AppJob[] = [{ name: 'purge', schedule: '0 * * * *', run: () => {} }];
const level: Settings['logLevel'] = 'info';

export default defineConfig({
  workers: 4,
  bind: ['0.0.0.0:8080', 'unix:/run/app.sock'],
  gracefulTimeout: 30,
  logLevel: level,
  sticky: 'cookie',
  env: ['NODE_ENV=production'],
  async onStarting(server) {
    server.log.info({ pid: server.pid }, String(server.config.workers));
  },
  postWorkerInit: (worker) => void worker.id,
  nworkersChanged: (_server, next, previous) => void (next - previous),
  preRequest: (_worker, req) => void req.url,
  postRequest: (_worker, _req, res) => void res.statusCode,
});
`;

describe('the package types, as a user project sees them', () => {
  it('a config with settings, hooks and app jobs type-checks with tsc --noEmit', () => {
    const r = typeCheck({ 'tsgun.config.ts': GOOD });
    assert.ok(r.ok, r.output);
  });

  it('a misspelt setting, a wrong value type or a wrong hook argument fails the check', () => {
    const cases: [string, string, RegExp][] = [
      ['workers: 4', 'wokers: 4', /'wokers' does not exist/],
      ['logLevel: level,', "logLevel: 'loud',", /'"loud"' is not assignable/],
      ["sticky: 'cookie'", 'sticky: true', /not assignable/],
      ['void worker.id', 'void worker.idd', /'idd' does not exist/],
    ];
    for (const [from] of cases) assert.ok(GOOD.includes(from), from);
    const files = Object.fromEntries(
      cases.map(([from, to], i) => [`bad${i}.ts`, GOOD.replace(from, to)]),
    );
    const r = typeCheck(files);
    assert.ok(!r.ok, r.output);
    // Each file fails, for its own mistake.
    cases.forEach(([, to, error], i) => {
      const own = r.output.split('\n').filter((l) => l.startsWith(`bad${i}.ts(`));
      assert.ok(own.length > 0, `${to} passed the type check`);
      assert.match(own.join('\n'), error);
    });
  });
});
