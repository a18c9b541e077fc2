import { basename, dirname, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * PM2's ecosystem file (`module.exports = { apps: [{ script, instances, env, ... }] }`) read as a
 * tsgun config file: the one app it names becomes settings at the config file's level (defaults <
 * config file < environment < command line). Pure: the file is already loaded; the caller warns.
 */

/**
 * `tsgun ecosystem.config.js`: the positional names an ecosystem file, not an app. A `.json` is
 * never an app (PM2's `process.json`); other names are the ecosystem ones, so that an app named
 * like PM2's words (process.js) still runs.
 */
export function isEcosystemName(path: string): boolean {
  const name = basename(path);
  return name.endsWith('.json') || /^ecosystem([.-][\w-]+)*\.(js|cjs|mjs)$/.test(name);
}

/** Whether a loaded config file is an ecosystem file (any name): it has an `apps` array. */
export function hasApps(values: Readonly<Record<string, unknown>>): boolean {
  return Array.isArray(values['apps']);
}

export interface EcosystemChoice {
  /** `--only NAME`: the app to run when the file has several. */
  readonly only?: string;
  /** `--env NAME`: its `env_NAME` is laid over `env`. */
  readonly envName?: string;
}

export interface EcosystemSettings {
  /** tsgun settings, keyed by setting name, for the config file's layer. */
  readonly settings: Record<string, unknown>;
  /** One line per PM2 key tsgun does not run (and per key it does not know). */
  readonly warnings: string[];
}

/** PM2 keys with no tsgun equivalent worth an error: each gets its one warning line, and why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  args: 'tsgun does not pass arguments to the app (process.argv); use env',
  node_args:
    'tsgun sets no per-app node options; start tsgun with NODE_OPTIONS=... (the workers inherit it)',
  interpreter_args: 'tsgun sets no per-app node options; start tsgun with NODE_OPTIONS=...',
  ignore_watch: 'tsgun --reload watches the app directory; add paths with --reload-extra-file',
};

/** Keys that are PM2's and mean what tsgun does anyway: no warning. */
const BUILT_IN = new Set(['exec_mode', 'merge_logs', 'combine_logs', 'autorestart']);

/** `'300M'`, `'1G'`, `'512K'`, or bytes: MiB, rounded up (tsgun's --reload-on-rss unit). */
export function memoryMiB(value: unknown): number {
  const m =
    typeof value === 'number'
      ? [String(value), String(value), '']
      : typeof value === 'string'
        ? /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*$/i.exec(value)
        : null;
  if (!m) throw new Error(`max_memory_restart: expected a size like 300M or 1G, got ${value}`);
  const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase()] ?? 1;
  return Math.max(1, Math.ceil((Number(m[1]) * scale) / 1024 ** 2));
}

/** Milliseconds (PM2's unit) to seconds (tsgun's). */
function msToSeconds(key: string, value: unknown): number {
  const ms = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
    throw new Error(`${key}: expected milliseconds, got ${JSON.stringify(value)}`);
  return ms / 1000;
}

/** PM2's `instances`: 'max', 0 and -1 are every CPU, tsgun's auto. */
function workers(value: unknown): unknown {
  if (value === 'max' || value === 0 || value === -1 || value === '0' || value === '-1')
    return 'auto';
  return value;
}

/** The app the file names: the only one, or the one --only picks. */
function pickApp(file: string, apps: readonly unknown[], only?: string): Record<string, unknown> {
  const names = apps.map((a, i) =>
    a !== null && typeof a === 'object' && typeof (a as { name?: unknown }).name === 'string'
      ? ((a as { name: string }).name as string)
      : `#${i + 1}`,
  );
  const index = only === undefined ? (apps.length === 1 ? 0 : -1) : names.indexOf(only);
  if (apps.length === 0) throw new ConfigError([`ecosystem file ${file}: its apps list is empty`]);
  if (index < 0) {
    const listed = names.join(', ');
    throw new ConfigError([
      only === undefined
        ? `ecosystem file ${file} has ${apps.length} apps (${listed}): tsgun runs one per master, pick it with --only NAME`
        : `--only: no app named ${JSON.stringify(only)} in ${file} (its apps: ${listed})`,
    ]);
  }
  const app = apps[index];
  if (app === null || typeof app !== 'object' || Array.isArray(app))
    throw new ConfigError([`ecosystem file ${file}: app ${names[index]} is not an object`]);
  return app as Record<string, unknown>;
}

/** `env` laid under `env_NAME`; both must be objects (tsgun's env setting parses the values). */
function mergedEnv(
  file: string,
  app: Record<string, unknown>,
  envName?: string,
): Record<string, unknown> | undefined {
  const chosen = envName === undefined ? undefined : app[`env_${envName}`];
  if (envName !== undefined && chosen === undefined)
    throw new ConfigError([`--env: ${envName} names no env_${envName} in ${file}`]);
  if (app['env'] === undefined && chosen === undefined) return undefined;
  for (const [key, value] of [
    ['env', app['env']],
    [`env_${envName}`, chosen],
  ] as const) {
    if (
      value !== undefined &&
      (value === null || typeof value !== 'object' || Array.isArray(value))
    )
      throw new ConfigError([`${key}: expected an object of variables in ${file}`]);
  }
  return { ...(app['env'] as object), ...(chosen as object | undefined) };
}

/** Where PM2's log files go in tsgun: one error log, the app's output captured into it. */
function logFile(
  app: Record<string, unknown>,
  dir: string,
  warnings: string[],
): string | undefined {
  const given = (['log_file', 'error_file', 'out_file'] as const).filter(
    (k) => typeof app[k] === 'string' && app[k] !== '/dev/null',
  );
  const chosen = given[0];
  for (const key of given.slice(1)) {
    if (app[key] !== app[chosen!])
      warnings.push(
        `ecosystem key ${key}: tsgun writes one log; the app's stdout and stderr both go to ${chosen} (${String(app[chosen!])})`,
      );
  }
  return chosen === undefined ? undefined : resolvePath(dir, String(app[chosen]));
}

/** The settings of the app an ecosystem file names (docs/migrating.md, From PM2). */
export function ecosystemSettings(
  file: string,
  values: Readonly<Record<string, unknown>>,
  choice: EcosystemChoice = {},
): EcosystemSettings {
  const warnings: string[] = [];
  for (const key of Object.keys(values))
    if (key !== 'apps') warnings.push(`ecosystem key ${key}: not supported by tsgun, ignored`);
  const app = pickApp(file, values['apps'] as unknown[], choice.only);
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  const base = dirname(file);
  const cwd = typeof app['cwd'] === 'string' ? resolvePath(base, app['cwd']) : undefined;
  // Paths in the app (script, files) are relative to its cwd, itself relative to the file: where
  // PM2 finds them, whatever directory tsgun is started from.
  const path = (value: unknown) =>
    typeof value === 'string' ? resolvePath(cwd ?? base, value) : value;
  const set = (name: string, value: () => unknown) => {
    try {
      settings[name] = value();
    } catch (err) {
      problems.push(`${(err as Error).message} (in ${file})`);
    }
  };
  for (const [key, value] of Object.entries(app)) {
    if (value === undefined || key.startsWith('env_') || key === 'env') continue;
    switch (key) {
      case 'script':
        set('app', () => path(value));
        break;
      case 'cwd':
        set('chdir', () => cwd ?? value);
        break;
      case 'name':
        set('name', () => value);
        break;
      case 'instances':
        set('workers', () => workers(value));
        break;
      case 'max_memory_restart':
        set('reloadOnRss', () => memoryMiB(value));
        break;
      case 'kill_timeout':
        set('gracefulTimeout', () => msToSeconds(key, value));
        break;
      case 'listen_timeout':
        set('readyTimeout', () => msToSeconds(key, value));
        break;
      case 'wait_ready':
        set('waitReady', () => value);
        break;
      case 'cron_restart':
        // A rolling reload: new workers are ready before the old ones stop (pm2 restart stops first).
        set('cron', () => [`${String(value)} reload`]);
        break;
      case 'watch':
        if (Array.isArray(value)) {
          set('reload', () => value.length > 0);
          set('reloadExtraFile', () => value.map((p) => `${String(p).replace(/\/+$/, '')}/**`));
        } else set('reload', () => value);
        break;
      case 'pid_file':
        set('pid', () => path(value));
        break;
      case 'log_file':
      case 'error_file':
      case 'out_file':
        break;
      default:
        if (BUILT_IN.has(key)) {
          if (key === 'exec_mode' && value === 'fork')
            warnings.push(`ecosystem key exec_mode: tsgun always runs cluster workers, not fork`);
        } else
          warnings.push(
            `ecosystem key ${key}: ${UNSUPPORTED[key] ?? 'not supported by tsgun'}, ignored`,
          );
    }
  }
  const log = logFile(app, cwd ?? base, warnings);
  if (log !== undefined) {
    settings['errorLogfile'] = log;
    settings['captureOutput'] = true;
  }
  try {
    const env = mergedEnv(file, app, choice.envName);
    if (env !== undefined) settings['env'] = env;
  } catch (err) {
    problems.push(...(err as ConfigError).problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { settings, warnings };
}
