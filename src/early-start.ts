/**
 * What bin/tsgun runs before the master's bundle loads: V8's compile cache (compile-cache.ts) and
 * the first worker's process (master/children/spare.ts), forked as early as a start allows. The master's
 * CommonJS bundle requires this module's bundle (dist/bundle/tsgun-early.cjs) instead of copies
 * of its modules, so the spare and the master's record of its own children
 * (master/host/own-children.ts) exist once. scripts/bundle.mjs lists the modules below by name (its
 * `early` set): keep the two alike.
 */
export { enableCompileCache } from './compile-cache.js';
export * from './master/children/spare.js';
export * from './master/host/own-children.js';
