import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildImage } from '../helpers/dockerfile.js';
import { freePort, getJson, request } from '../helpers/http.js';
import { fixture, killAll, ROOT, Tsgun } from '../helpers/tsgun.js';

after(killAll);

const scratch = mkdtempSync(join(tmpdir(), 'tsgun-pack-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** npm, asynchronously: the test's own server may have to answer it. */
async function npm(args: string[], cwd: string): Promise<{ status: number; stderr: string }> {
  try {
    const r = await promisify(execFile)(
      'npm',
      [...args, '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd, timeout: 180_000 },
    );
    return { status: 0, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? String(err) };
  }
}

interface PackedFile {
  path: string;
}

describe('installing tsgun into an app', () => {
  let tarball = '';
  before(() => {
    // What a publish would ship. prepack runs the build; the suite has just built, so skip it.
    const out = execFileSync(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch],
      { cwd: ROOT, encoding: 'utf8' },
    );
    tarball = join(scratch, (JSON.parse(out) as { filename: string }[])[0]!.filename);
  });

  it('npm pack ships bin, the bundles, the built dist/src and its types; no tests, no bench results', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const files = (JSON.parse(out) as { files: PackedFile[] }[])[0]!.files.map((f) => f.path);
    for (const f of [
      'bin/tsgun',
      'bin/package.json',
      'dist/bundle/tsgun.cjs',
      'dist/bundle/tsgun-early.cjs',
      'dist/bundle/tsgun-worker.cjs',
      'dist/bundle/tsgun-worker.mjs',
      'dist/bundle/tsgun-router.mjs',
      'dist/src/cli/main.js',
      'dist/src/worker/main.js',
      'dist/src/worker/start.cjs',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'examples/deploy/Dockerfile',
      'package.json',
      'README.md',
      'docs/getting-started.md',
    ]) {
      assert.ok(files.includes(f), `ships ${f}`);
    }
    const unwanted = files.filter((f) =>
      /^(test|bench|src|scripts|dist\/test|dist\/bench)\/|bench-events|results|\.ts$(?<!\.d\.ts)/.test(
        f,
      ),
    );
    assert.deepEqual(unwanted, []);
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
      scripts: Record<string, string>;
      types: string;
    };
    assert.equal(pkg.scripts['prepack'], 'npm run build', 'npm pack always builds first');
    assert.ok(files.includes(pkg.types.replace(/^\.\//, '')));
  });

  it('npm ci --omit=dev in this repository needs no TypeScript', async () => {
    const repo = join(scratch, 'repo');
    mkdirSync(repo);
    for (const f of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'bin',
      'scripts',
      'dist/bundle',
      'dist/src',
    ])
      cpSync(join(ROOT, f), join(repo, f), { recursive: true });
    const ci = await npm(['ci', '--omit=dev'], repo);
    assert.equal(ci.status, 0, ci.stderr);
    assert.match(
      ci.stderr,
      /TypeScript is not installed \(a production install\): using the built dist\//,
    );
    assert.equal(existsSync(join(repo, 'node_modules/typescript')), false);
    const version = spawnSync(process.execPath, ['bin/tsgun', '--version'], {
      cwd: repo,
      encoding: 'utf8',
    });
    assert.equal(version.status, 0, version.stderr);
  });

  it('without dist/bundle (esbuild was not installed), bin/tsgun runs dist/src, spare and all', async () => {
    const repo = join(scratch, 'no-bundle');
    mkdirSync(repo);
    for (const f of ['package.json', 'bin', 'dist/src'])
      cpSync(join(ROOT, f), join(repo, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
    // This Node (not the shebang's, the first on PATH), the copy's bin.
    const t = new Tsgun(
      [join(repo, 'bin/tsgun'), fixture('listener.cjs'), '-b', '127.0.0.1:0', '-w', '1'],
      {
        bin: process.execPath,
      },
    );
    const booting = await t.waitForLog((l) => l.msg === 'booting worker');
    assert.match(String(booting['spare']), /^yes/);
    await t.waitForReady(1);
    assert.equal((await request(`${await t.url()}/`)).status, 200);
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it('the shipped Dockerfile builds an app that depends on tsgun, and its CMD serves', async () => {
    // The packed tarball, served over HTTP: a tarball URL resolves the same in every stage.
    const served: Server = createServer((_req, res) => res.end(readFileSync(tarball)));
    await new Promise<void>((resolve) => served.listen(0, '127.0.0.1', resolve));
    after(() => served.close());
    const { port } = served.address() as { port: number };
    const app = join(scratch, 'my-app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'my-app',
        version: '1.0.0',
        private: true,
        dependencies: { tsgun: `http://127.0.0.1:${port}/tsgun.tgz` },
      }),
    );
    writeFileSync(
      join(app, 'app.js'),
      "module.exports = (req, res) => res.end(JSON.stringify({ app: 'mine', pid: process.pid }));\n",
    );
    writeFileSync(join(app, '.dockerignore'), 'node_modules\n');
    const lock = await npm(['install', '--package-lock-only'], app);
    assert.equal(lock.status, 0, lock.stderr);

    const image = await buildImage(
      `${ROOT}examples/deploy/Dockerfile`,
      app,
      join(scratch, 'image'),
    );
    assert.deepEqual(image.runs, ['npm ci --omit=dev']);
    assert.equal(image.cmd[0], 'node_modules/.bin/tsgun', 'tsgun runs directly: no npx, no npm');
    assert.ok(!image.cmd.some((w) => /^(npx|npm)$/.test(w)));
    assert.ok(existsSync(join(image.workdir, 'node_modules/tsgun/dist/src/cli/main.js')));
    assert.ok(existsSync(join(image.workdir, 'node_modules/tsgun/dist/bundle/tsgun.cjs')));
    assert.equal(existsSync(join(image.workdir, 'node_modules/typescript')), false);

    // The CMD as written, on ports of this machine instead of the container's.
    const stats = await freePort();
    const args = image.cmd
      .slice(1)
      .map((a) =>
        a === '0.0.0.0:8000' ? '127.0.0.1:0' : a === '0.0.0.0:9191' ? `127.0.0.1:${stats}` : a,
      );
    const t = new Tsgun(args, {
      bin: join(image.workdir, image.cmd[0]!),
      cwd: image.workdir,
      env: image.env,
    });
    const url = await t.url();
    await t.waitForReady(1);
    const reply = await request(url);
    assert.equal(reply.status, 200);
    assert.equal((JSON.parse(reply.body) as { app: string }).app, 'mine');
    assert.equal((await getJson<{ pid: number }>(`http://127.0.0.1:${stats}/`)).pid, t.pid);
    t.kill();
  });
});
