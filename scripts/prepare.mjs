// `npm install` in a clone of tsgun builds dist/ with TypeScript, then the bundles of
// dist/bundle/ (scripts/bundle.mjs). A production install
// (`npm ci --omit=dev`) has no TypeScript: it must not fail on that, and has nothing to build
// when dist/ is already there (a published package or a tarball ships it, built by prepack).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
let tsc;
try {
  tsc = createRequire(root).resolve('typescript/bin/tsc');
} catch {
  tsc = null;
}
if (tsc === null) {
  const built = existsSync(new URL('dist/src/cli/main.js', root));
  process.stderr.write(
    built
      ? 'tsgun: TypeScript is not installed (a production install): using the built dist/\n'
      : 'tsgun: TypeScript is not installed and dist/ is not built: run `npm install` with dev dependencies, or install a packed tsgun (npm pack)\n',
  );
  process.exit(0);
}
const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (run.status !== 0) process.exit(run.status ?? 1);
const bundle = spawnSync(
  process.execPath,
  [fileURLToPath(new URL('bundle.mjs', import.meta.url))],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(bundle.status ?? 1);
