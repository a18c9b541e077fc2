import { ConfigError, ErrorCode } from '../errors.js';
import { UPGRADE_ENV, WORKER_ENV } from '../ipc/protocol.js';
import { BREAK_ENV } from '../platform/break-switch.js';
import { fileKeyHint, fileValueHint } from './file-hints.js';
import { foreignEnvWarnings } from './foreign-env.js';
import { canonicalKey } from './keys.js';
import {
  type Config,
  displayName,
  type Env,
  REGISTRY,
  SETTING_NAMES,
  type SettingDef,
  type SettingName,
  type Settings,
} from './registry.js';
import { hint } from './suggest.js';

export type Source = 'default' | 'file' | 'env' | 'TSGUN_CMD_ARGS' | 'cli';

export interface Layers {
  /** The process environment: per-setting variables and computed defaults ($PORT, ...). */
  readonly env: Env;
  /** Values from a config file, keyed as written there. */
  readonly file?: { readonly path: string; readonly values: Readonly<Record<string, unknown>> };
  /** Values parsed from TSGUN_CMD_ARGS, keyed by setting name. */
  readonly envArgs?: Readonly<Partial<Record<SettingName, unknown>>>;
  /** Values from the command line, keyed by setting name. */
  readonly cli?: Readonly<Partial<Record<SettingName, unknown>>>;
}

export interface Resolved {
  readonly config: Config;
  readonly sources: Readonly<Record<SettingName, Source>>;
  /** One line each: what was ignored (unknown TSGUN_* variables), for the start's log. */
  readonly warnings: readonly string[];
}

/** Extra command-line arguments from the environment (Gunicorn's GUNICORN_CMD_ARGS). */
export const CMD_ARGS_ENV = 'TSGUN_CMD_ARGS';

/** Names tsgun reads or sets for its own processes, so an unknown-variable check must not trip on them. */
const INTERNAL_ENV: ReadonlySet<string> = new Set([
  CMD_ARGS_ENV,
  BREAK_ENV,
  ...Object.values(WORKER_ENV),
  ...Object.values(UPGRADE_ENV),
]);

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Layer defaults < config file < environment < TSGUN_CMD_ARGS < command line into one frozen
 * config. Pure: everything it reads is passed in. Collects every problem before throwing, so
 * --check-config can list them all.
 */
export function resolveConfig(layers: Layers): Resolved {
  const problems: string[] = [];
  let unknownKeys = false;
  const values: Partial<Record<SettingName, unknown>> = {};
  const sources = {} as Record<SettingName, Source>;

  const apply = (name: SettingName, raw: unknown, source: Source, origin: string, hint = '') => {
    const def = REGISTRY[name] as SettingDef<unknown>;
    try {
      values[name] = def.parse(raw);
      sources[name] = source;
    } catch (err) {
      problems.push(`${displayName(name)}: ${(err as Error).message} (from ${origin})${hint}`);
    }
  };

  for (const name of SETTING_NAMES) {
    const def = REGISTRY[name] as SettingDef<unknown>;
    try {
      values[name] =
        typeof def.default === 'function'
          ? (def.default as (env: Env) => unknown)(layers.env)
          : def.default;
      sources[name] = 'default';
    } catch (err) {
      problems.push(
        `${displayName(name)}: ${(err as Error).message} (from its default's variable)`,
      );
    }
  }

  if (layers.file) {
    const fileSettings = SETTING_NAMES.filter((n) => !REGISTRY[n].cliOnly && n !== 'config');
    for (const [key, raw] of Object.entries(layers.file.values)) {
      const name = canonicalKey(key) as SettingName;
      if (!fileSettings.includes(name)) {
        unknownKeys = true;
        problems.push(
          `unknown setting ${JSON.stringify(key)} in ${layers.file.path}${fileKeyHint(key, raw) || hint(key, fileSettings)}`,
        );
        continue;
      }
      const origin = `${layers.file.path}, key ${JSON.stringify(key)}`;
      apply(name, raw, 'file', origin, fileValueHint(name, key, raw));
    }
  }

  const envNames = new Map<string, SettingName>();
  for (const name of SETTING_NAMES) {
    const env = REGISTRY[name].env;
    if (env) envNames.set(env, name);
  }
  // Unknown TSGUN_* names warn and never stop the start (see foreign-env.ts); a known name with
  // a bad value is a problem like any other.
  const unknownEnv: string[] = [];
  for (const [key, raw] of Object.entries(layers.env)) {
    if (raw === undefined || !key.startsWith('TSGUN_')) continue;
    const name = envNames.get(key);
    if (name === undefined) {
      if (!INTERNAL_ENV.has(key)) unknownEnv.push(key);
      continue;
    }
    apply(name, raw, 'env', key);
  }
  const warnings = foreignEnvWarnings(unknownEnv.sort(), [...envNames.keys(), CMD_ARGS_ENV]);

  for (const [layer, source, origin] of [
    [layers.envArgs, 'TSGUN_CMD_ARGS', 'TSGUN_CMD_ARGS'],
    [layers.cli, 'cli', 'the command line'],
  ] as const) {
    if (!layer) continue;
    for (const name of SETTING_NAMES) {
      if (layer[name] !== undefined) apply(name, layer[name], source, origin);
    }
  }

  // The file actually read, as an absolute path (also when discovered without -c), so workers,
  // which run after --chdir, and HUP read the same one.
  if (layers.file) {
    values.config = layers.file.path;
    if (sources.config === 'default') sources.config = 'file';
  }
  const stats = values.stats as Settings['stats'];
  if (stats?.kind === 'tcp' && !values.statsAllowRemote && !isLoopback(stats.host)) {
    problems.push(
      `--stats: ${stats.host} is not a loopback address; add --stats-allow-remote to serve stats there`,
    );
  }
  // Router settings mean nothing in direct mode: say so instead of silently ignoring them.
  if (!values.router) {
    if (values.sticky !== null)
      problems.push(
        `--sticky: ${String(values.sticky)} needs --router (direct mode has no router to keep sessions)`,
      );
    if ((values.route as Settings['route']).length > 0)
      problems.push('--route: needs --router (direct mode has no router to proxy with)');
  }
  if (!values.printConfig && values.app === null) {
    problems.push('APP: missing (usage: tsgun [options] path/to/module[:export])');
  }
  if (problems.length > 0) {
    throw new ConfigError(
      problems,
      unknownKeys && problems.length === 1
        ? ErrorCode.CONFIG_UNKNOWN_KEY
        : ErrorCode.CONFIG_INVALID,
    );
  }
  return {
    config: deepFreeze(values as Settings),
    sources: Object.freeze(sources),
    warnings: Object.freeze(warnings),
  };
}

/** The resolved settings in their written form, for --print-config and the worker's boot. */
export function describeConfig(
  resolved: Resolved,
): Record<string, { value: unknown; source: Source }> {
  const out: Record<string, { value: unknown; source: Source }> = {};
  for (const name of SETTING_NAMES) {
    const def = REGISTRY[name] as SettingDef<unknown>;
    const value = resolved.config[name];
    out[name] = { value: def.format ? def.format(value) : value, source: resolved.sources[name] };
  }
  return out;
}
