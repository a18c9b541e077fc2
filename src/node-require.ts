import { createRequire } from 'node:module';

/**
 * `require` for what tsgun loads only when a setting asks for it (node-cron, node:tls,
 * node:dgram) and for node:http (worker, router, stats server). Node's own modules are required,
 * not imported: an ES import of a built-in builds its ES facade, which reads every export, and
 * node:http's include getters (WebSocket and its events) that load Node's bundled undici, ~30 ms
 * of a start on Node 22 and 24. An app that require()s http never pays that; tsgun should not
 * make it. (The router loads undici anyway, through the undici package's use of web globals.)
 */
export const nodeRequire: NodeJS.Require = createRequire(import.meta.url);
