/**
 * What an app may import from tsgun. With `--wait-ready`, a worker counts as ready (and a reload
 * moves on) only once the app calls ready(), e.g. after warming a cache. Outside tsgun, or
 * without --wait-ready, it does nothing.
 */
export { ready } from './ready.js';
export { VERSION as version } from './version.js';
