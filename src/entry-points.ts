/**
 * The files tsgun starts its children from. Defined (as true) only in the single-file builds of
 * dist/bundle/ (scripts/bundle.mjs), where every module's import.meta.url is the bundle's: the
 * master's children then start from the bundles beside it. Imported from dist/src (as the tests
 * do), the modules of dist/src fork the modules of dist/src. This file sits at the same depth
 * (dist/src/ or dist/bundle/) in both layouts, so one relative path fits each.
 */
declare const TSGUN_BUNDLE: boolean | undefined;
const bundled = typeof TSGUN_BUNDLE === 'boolean';

const entry = (bundle: string, module: string): URL =>
  new URL(bundled ? `./${bundle}` : `../src/${module}`, import.meta.url);

/** The worker's CommonJS first module (worker/start.cts), which imports the worker. */
export const WORKER_ENTRY = entry('tsgun-worker.cjs', 'worker/start.cjs');
export const ROUTER_ENTRY = entry('tsgun-router.mjs', 'router/main.js');
/** Small and started only for `--cron exec:` with --user: not worth a bundle of its own. */
export const RUN_AS_ENTRY = new URL('../src/child/run-as.js', import.meta.url);
