// Single-file builds of tsgun's three entry points, from the JavaScript tsc wrote to dist/src:
// dist/bundle/tsgun.mjs (the master and the CLI, which bin/tsgun starts), tsgun-worker.mjs and
// tsgun-router.mjs (which the master forks). Node 20's ESM loader spends most of a start
// resolving, reading and compiling ~100 small modules one by one; a bundle is a few files. Code
// the master or a worker loads only on demand (the stats server, the config-file loader and its
// command-line parser in a worker) goes into chunks of its own, loaded with it.
// dist/src stays as tsc wrote it: the tests and `import 'tsgun'` use it.
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const outdir = fileURLToPath(new URL('dist/bundle/', root));
// Chunk names carry a content hash: clear the old ones rather than let them pile up. Cleared
// before anything can stop this script: an old bundle left beside a newer dist/src would run
// in its place.
rmSync(outdir, { recursive: true, force: true });
let esbuild;
try {
  esbuild = createRequire(root).resolve('esbuild');
} catch {
  // A production install: bin/tsgun falls back to dist/src when no bundle is there.
  process.stderr.write('tsgun: esbuild is not installed: no dist/bundle (dist/src is used)\n');
  process.exit(0);
}
const { build } = await import(esbuild);

// pino's transports run in worker threads (thread-stream); tsgun writes its logs with
// pino.destination and never starts one. pino also reads node:worker_threads' isMainThread at
// load, only to decide whether an asynchronous destination flushes at exit: tsgun's processes
// are main threads, and its destinations are synchronous. Stubbing both keeps worker_threads
// (about 1.6 MiB of RSS, measured) out of every process.
const PINO_STUBS = {
  'thread-stream':
    "module.exports = class { constructor() { throw new Error('tsgun bundles pino without transports'); } };",
  worker_threads: 'module.exports = { isMainThread: true };',
};
const noPinoWorkerThreads = {
  name: 'no-pino-worker-threads',
  setup(b) {
    b.onResolve({ filter: /^(thread-stream|worker_threads)$/ }, (args) =>
      /[\\/]node_modules[\\/]pino[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'pino-stub' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pino-stub' }, (args) => ({
      contents: PINO_STUBS[args.path],
      loader: 'js',
    }));
  },
};
await build({
  absWorkingDir: fileURLToPath(root),
  entryPoints: {
    tsgun: 'dist/src/cli/main.js',
    'tsgun-worker': 'dist/src/worker/main.js',
    'tsgun-router': 'dist/src/router/main.js',
    // bin/tsgun loads it before the master's bundle (src/master/spare.ts); shared, one instance.
    'tsgun-spare': 'dist/src/master/spare.js',
  },
  outdir,
  // Flat: every module in a bundle or chunk sits at the depth of dist/src/, so paths relative to
  // import.meta.url (package.json, src/entry-points.ts) resolve alike in both layouts.
  chunkNames: 'tsgun-[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // src/entry-points.ts: forks start from the bundles beside the master's.
  define: { TSGUN_BUNDLE: 'true' },
  // CommonJS dependencies (pino, commander) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __tsgunCreateRequire } from 'node:module'; const require = __tsgunCreateRequire(import.meta.url);",
  },
  plugins: [noPinoWorkerThreads],
  legalComments: 'none',
  logLevel: 'warning',
});
process.stderr.write(`tsgun: bundled ${readdirSync(outdir).length} files into dist/bundle/\n`);
