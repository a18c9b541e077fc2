// Single-file builds of tsgun's entry points, from the JavaScript tsc wrote to dist/src:
// dist/bundle/tsgun.cjs (the master and the CLI, which bin/tsgun starts, after tsgun-early.cjs),
// tsgun-worker.mjs and tsgun-router.mjs (which the master forks). Node 20's ESM loader spends
// most of a start resolving, reading and compiling its many small modules one by one; a bundle
// is a few files. The master is CommonJS: no ES module is loaded in it, so Node's ESM loader (its
// modules, and on Node 20 its thread pool), ES facades of built-ins that run their lazy getters,
// and the time they take stay out of the process that runs the longest. The children are ES
// modules (an app may be one; a worker imports it): code a worker loads only on demand (the
// config-file loader and its command-line parser) goes into chunks of its own, loaded with it.
// dist/src stays as tsc wrote it: the tests and `import 'tsgun'` use it.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
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
// (and the memory it holds: DEVELOPERS.md, "Start-up") out of every process. sonic-boom (pino's
// destination) loads node:assert (five modules) for one check of a descriptor: a plain throw
// does the same.
const PINO_STUBS = {
  'thread-stream':
    "module.exports = class { constructor() { throw new Error('tsgun bundles pino without transports'); } };",
  worker_threads: 'module.exports = { isMainThread: true };',
  assert: 'module.exports = (ok, message) => { if (!ok) throw new Error(message); };',
};
const pinoStubs = {
  name: 'pino-stubs',
  setup(b) {
    b.onResolve({ filter: /^(thread-stream|worker_threads|assert)$/ }, (args) =>
      /[\\/]node_modules[\\/](pino|sonic-boom)[\\/]/.test(args.importer)
        ? { path: args.path, namespace: 'pino-stub' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'pino-stub' }, (args) => ({
      contents: PINO_STUBS[args.path],
      loader: 'js',
    }));
  },
};
const common = {
  absWorkingDir: fileURLToPath(root),
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: {
    'tsgun-worker': 'dist/src/worker/main.js',
    'tsgun-router': 'dist/src/router/main.js',
  },
  // Flat: every module in a bundle or chunk sits at the depth of dist/src/, so paths relative to
  // import.meta.url (package.json, src/entry-points.ts) resolve alike in both layouts.
  chunkNames: 'tsgun-[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  format: 'esm',
  // src/entry-points.ts: forks start from the bundles beside the master's.
  define: { TSGUN_BUNDLE: 'true' },
  // CommonJS dependencies (pino, commander) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __tsgunCreateRequire } from 'node:module'; const require = __tsgunCreateRequire(import.meta.url);",
  },
  plugins: [pinoStubs],
});

// The modules bin/tsgun loads first (src/early-start.ts): the master's bundle requires their
// bundle rather than copies of them, so that state held there (the spare, the children the
// master may signal) exists once.
const EARLY = 'tsgun-early.cjs';
const early = new Set(
  ['compile-cache.js', 'master/host/own-children.js', 'master/children/spare.js'].map((m) =>
    fileURLToPath(new URL(`dist/src/${m}`, root)),
  ),
);
const sharedEarly = {
  name: 'shared-early-modules',
  setup(b) {
    b.onResolve({ filter: /\.js$/ }, (args) => {
      if (args.kind === 'entry-point' || !args.importer) return undefined;
      const full = resolve(dirname(args.importer), args.path);
      return early.has(full) ? { path: `./${EARLY}`, external: true } : undefined;
    });
  },
};
// CommonJS has no import.meta: each bundle's own file URL stands in (src/entry-points.ts and
// src/version.ts resolve paths against it; every bundle sits at the depth of dist/src/).
const commonJs = {
  ...common,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  define: { TSGUN_BUNDLE: 'true', 'import.meta.url': '__tsgunFileUrl' },
  // The directive first: esbuild's own "use strict" comes after the banner, where it is a plain
  // string and the bundle would run in sloppy mode (the modules of dist/src are strict).
  banner: {
    js: "'use strict';\nconst __tsgunFileUrl = require('node:url').pathToFileURL(__filename).href;",
  },
};
await build({ ...commonJs, entryPoints: { 'tsgun-early': 'dist/src/early-start.js' } });
// The worker's first module (src/worker/start.cts): it imports tsgun-worker.mjs beside it.
await build({ ...commonJs, entryPoints: { 'tsgun-worker': 'dist/src/worker/start.cjs' } });
await build({
  ...commonJs,
  entryPoints: { tsgun: 'dist/src/cli/main.js' },
  plugins: [pinoStubs, sharedEarly],
});
// An import the plugin missed would put a second spare and a second list of children in the
// master, silently: the spare would never be used, a child never be signalled. esbuild names
// each module it inlines in a comment.
const master = readFileSync(join(outdir, 'tsgun.cjs'), 'utf8');
for (const file of early) {
  const name = relative(fileURLToPath(root), file);
  if (master.includes(`// ${name}\n`)) {
    process.stderr.write(
      `tsgun: dist/bundle/tsgun.cjs holds a copy of ${name}: it must require ${EARLY}\n`,
    );
    process.exit(1);
  }
}
process.stderr.write(`tsgun: bundled ${readdirSync(outdir).length} files into dist/bundle/\n`);
