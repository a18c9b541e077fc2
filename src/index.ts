/**
 * What an app may import from tsgun. With `--wait-ready`, a worker counts as ready (and a reload
 * moves on) only once the app calls ready(), e.g. after warming a cache. Outside tsgun, or
 * without --wait-ready, it does nothing.
 */

export type { CronEntry, HookName, SettingName, Settings, StickyMode } from './config/registry.js';
export type { ServerFacade, WorkerFacade } from './hooks.js';
export { ready } from './ready.js';
/** For a typed config file: `export default defineConfig({ ... })` in tsgun.config.ts. */
export {
  defineConfig,
  type ServerHooks,
  type UserConfig,
  type UserSettings,
} from './user-config.js';
export { VERSION as version } from './version.js';
export type { AppJob } from './worker/jobs.js';
