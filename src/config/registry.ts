/**
 * The settings registry: every setting tsgun has, declared once (in settings/, one file per
 * group of sections), in the order --print-config and SETTING_NAMES give them, and the types
 * the rest of tsgun reads a configuration with.
 */
import { APP_SETTINGS, SOCKET_SETTINGS } from './settings/app.js';
import { DEBUG_SETTINGS, DEVELOPMENT_SETTINGS } from './settings/development.js';
import { HOOK_SETTINGS } from './settings/hooks.js';
import { JOB_SETTINGS } from './settings/jobs.js';
import { ACCESS_FORMAT_SETTINGS, LOG_SETTINGS } from './settings/logging.js';
import { MECHANICS_SETTINGS } from './settings/mechanics.js';
import { ROUTER_SETTINGS } from './settings/router.js';
import { SECURITY_SETTINGS } from './settings/security.js';
import { STATS_SETTINGS } from './settings/stats.js';
import { TLS_SETTINGS } from './settings/tls.js';
import { WORKER_SETTINGS } from './settings/workers.js';
import { defineRegistry, type SettingDef, type ValueOf } from './spec.js';

export type { Hook, HookName, WorkerHookName } from './settings/hooks.js';
export { HOOK_NAMES, WORKER_HOOKS } from './settings/hooks.js';
export { type CronEntry, parseCron } from './settings/jobs.js';
export { STICKY_MODES, type StickyMode } from './settings/router.js';
export {
  type Env,
  envName,
  SECTIONS,
  type Section,
  type SettingDef,
  type SettingSpec,
} from './spec.js';

export const REGISTRY = defineRegistry({
  ...APP_SETTINGS,
  ...SOCKET_SETTINGS,
  ...WORKER_SETTINGS,
  ...SECURITY_SETTINGS,
  ...MECHANICS_SETTINGS,
  ...ROUTER_SETTINGS,
  ...LOG_SETTINGS,
  // The order is --print-config's and SETTING_NAMES': the TLS settings stay between Logging's two.
  ...TLS_SETTINGS,
  ...ACCESS_FORMAT_SETTINGS,
  ...STATS_SETTINGS,
  ...JOB_SETTINGS,
  ...DEVELOPMENT_SETTINGS,
  ...HOOK_SETTINGS,
  ...DEBUG_SETTINGS,
});

export type Registry = typeof REGISTRY;
/** Every setting tsgun has, with its resolved type, as the registry declares it. */
export type Settings = {
  -readonly [K in keyof Registry]: ValueOf<Registry[K]>;
};
export type SettingName = keyof Settings;
export type Config = Readonly<Settings>;

export const SETTING_NAMES = Object.keys(REGISTRY) as SettingName[];

/** The long flag, which names a setting in every error message (`--workers`, or `APP`). */
export function displayName(name: SettingName): string {
  const def: SettingDef<unknown> = REGISTRY[name];
  return def.flags.find((f) => f.startsWith('--')) ?? def.arg ?? name;
}
