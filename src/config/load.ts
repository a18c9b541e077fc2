import { existsSync } from 'node:fs';
import { extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkRegularFile, readRegularFile } from '../checked-open.js';
import { ConfigError } from '../errors.js';
import { type CliValues, parseArgs } from './cli.js';
import { ecosystemSettings, hasApps, isEcosystemName } from './ecosystem.js';
import { type Env, envName, REGISTRY } from './registry.js';
import { CMD_ARGS_ENV, type Resolved, resolveConfig } from './resolve.js';
import { settleWithin, stallReason } from './settle.js';
import { splitShellWords } from './shell-words.js';
import { jsonErrorLocation, locateSyntaxError } from './syntax-location.js';
import { checkTypeScript } from './typescript.js';

/** The settings a config file gives, loaded (JSON parsed, a module imported and called). */
async function loadValues(full: string): Promise<unknown> {
  if (extname(full) === '.json') {
    // A BOM is dropped, as require() does for JSON: editors on Windows write one.
    const text = readRegularFile(full).replace(/^\uFEFF/, '');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw Object.assign(err as Error, { jsonText: text });
    }
  }
  // Never import a FIFO or a device: the import would wait on it, at start or on HUP.
  checkRegularFile(full);
  const mod = (await import(pathToFileURL(full).href)) as { default?: unknown };
  const values = mod.default ?? mod;
  return typeof values === 'function' ? await (values as () => unknown)() : values;
}

/**
 * The settings as a plain object, or null when the file gives no object. Copied key by key here,
 * where a throwing getter or Proxy trap is a config error: read later (even as a returned
 * promise's value, which is checked for `then`) it would be a stack trace.
 */
function plainSettings(values: unknown): Record<string, unknown> | null {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return null;
  const settings: Record<string, unknown> = {};
  for (const key of Object.keys(values)) settings[key] = (values as Record<string, unknown>)[key];
  return settings;
}

/** `path` as the user wrote it, for messages; `full`: where it is (relative to the cwd if not given). */
export async function readConfigFile(
  path: string,
  full = resolvePath(path),
): Promise<Record<string, unknown>> {
  if (!existsSync(full)) throw new ConfigError([`--config: file not found: ${path}`]);
  checkTypeScript('config file', path);
  let settings: Record<string, unknown> | null;
  try {
    settings = plainSettings(await loadValues(full));
  } catch (err) {
    throw new ConfigError([
      `--config: cannot load ${path}: ${configFailure(err)}${syntaxAt(err, path, full)}`,
    ]);
  }
  if (!settings) throw new ConfigError([`--config: ${path} must export an object of settings`]);
  return settings;
}

/** The first line of why loading failed; whatever was thrown (not always an Error) is read safely. */
function configFailure(err: unknown): string {
  try {
    return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  } catch {
    return 'it threw something that cannot be shown';
  }
}

/**
 * ` (at FILE:LINE:COLUMN)` for a syntax error in the file (or a module it imports), else ''. JSON
 * errors carry the text they failed on (see loadValues); a module's is found as an app's is.
 */
function syntaxAt(err: unknown, path: string, full: string): string {
  if (!(err instanceof SyntaxError)) return '';
  const text = (err as { jsonText?: unknown }).jsonText;
  if (typeof text === 'string') {
    const at = jsonErrorLocation(err.message, text);
    return at ? ` (at ${path}:${at.line}:${at.column})` : '';
  }
  const at = locateSyntaxError(err, full);
  if (!at) return '';
  const located = at.file.replace(/^file:\/\//, '');
  const file = located === full ? path : located;
  return at.column === 0
    ? ` (at ${file}:${at.line}, the end of the file: a bracket or quote is not closed)`
    : ` (at ${file}:${at.line}:${at.column})`;
}

/** Gunicorn reads ./gunicorn.conf.py when no -c is given; tsgun reads the first of these. */
export const CONFIG_FILES = [
  'tsgun.config.js',
  'tsgun.config.mjs',
  'tsgun.config.cjs',
  'tsgun.config.ts',
  'tsgun.config.mts',
  'tsgun.config.cts',
  'tsgun.config.json',
];

function discoverConfig(dir: string): string | undefined {
  return CONFIG_FILES.find((name) => existsSync(resolvePath(dir, name)));
}

export type LoadResult =
  | {
      readonly kind: 'run';
      readonly resolved: Resolved;
      /** The config file read, if any; `discovered`: found in the cwd, not named by -c. */
      readonly configFile?: { readonly path: string; readonly discovered: boolean };
    }
  | { readonly kind: 'exit'; readonly code: number };

/** TSGUN_CMD_ARGS split like a shell (quotes, backslashes); a broken quote is one line naming it. */
export function cmdArgsWords(text: string): string[] {
  try {
    return splitShellWords(text);
  } catch (err) {
    throw new ConfigError([
      `${CMD_ARGS_ENV}: ${(err as Error).message} in ${JSON.stringify(text)}`,
    ]);
  }
}

/**
 * --startup-timeout for the config file's own load, before the file is read: from the command
 * line, TSGUN_CMD_ARGS or TSGUN_STARTUP_TIMEOUT (the first given), else the default. A bad value
 * is left to resolveConfig, which reports it with the others.
 */
function startupSeconds(given: readonly unknown[]): number {
  const def = REGISTRY.startupTimeout;
  const raw = given.find((v) => v !== undefined);
  try {
    if (raw !== undefined) return def.parse(raw);
  } catch {
    // Reported by resolveConfig.
  }
  return def.default as number;
}

/** `--env` as given on the command line: its KEY=VALUE words, and its bare words (PM2's env names). */
function envWords(given: unknown): { pairs: unknown; names: string[] } {
  if (!Array.isArray(given)) return { pairs: given, names: [] };
  const names = given.filter((w): w is string => typeof w === 'string' && !w.includes('='));
  const pairs = given.filter((w) => !names.includes(w));
  return { pairs: pairs.length > 0 ? pairs : undefined, names };
}

/** --only and a bare --env NAME choose in an ecosystem file: without one they are mistakes. */
function noEcosystem(cli: CliValues): void {
  const bare = envWords(cli.env).names[0];
  const [flag, value] =
    cli.only !== undefined
      ? ['--only', String(cli.only)]
      : bare !== undefined
        ? ['--env', bare]
        : [];
  if (flag === undefined) return;
  throw new ConfigError([
    flag === '--only'
      ? `--only: ${value} needs a PM2 ecosystem file (an apps list) to pick from`
      : `--env: expected KEY=VALUE, got ${JSON.stringify(value)} (a bare NAME picks env_NAME of a PM2 ecosystem file, and none is given)`,
  ]);
}

/**
 * A config file that is a PM2 ecosystem file (an `apps` list) becomes the settings of the app it
 * names, with `--only NAME` and a bare `--env NAME` choosing; anything else is returned as read.
 * `ecosystem`: the positional APP named the file.
 */
function fileLayer(
  path: string,
  values: Record<string, unknown>,
  cli: CliValues,
  ecosystem: boolean,
): { values: Record<string, unknown>; cli: CliValues; warnings: string[] } {
  if (!hasApps(values)) {
    if (ecosystem)
      throw new ConfigError([
        `APP: ${path} is not an app, and not an ecosystem file (no apps list)`,
      ]);
    noEcosystem(cli);
    return { values, cli, warnings: [] };
  }
  const { pairs, names } = envWords(cli.env);
  const only = typeof cli.only === 'string' ? cli.only : undefined;
  const envName = names.at(-1);
  const eco = ecosystemSettings(path, values, {
    ...(only !== undefined ? { only } : {}),
    ...(envName !== undefined ? { envName } : {}),
  });
  return { values: eco.settings, cli: { ...cli, env: pairs }, warnings: eco.warnings };
}

/**
 * Read every layer (argv, TSGUN_CMD_ARGS, the environment, the config file) and resolve them.
 * `dir`: what a relative config file path is relative to (on HUP, where tsgun was started).
 */
export async function loadConfig(
  argv: readonly string[],
  env: Env,
  dir = process.cwd(),
): Promise<LoadResult> {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'exit') return parsed;
  let cli = parsed.values;
  const envArgsText = env[CMD_ARGS_ENV];
  let envArgs: Record<string, unknown> | undefined;
  if (envArgsText) {
    const parsed = parseArgs(cmdArgsWords(envArgsText), CMD_ARGS_ENV);
    if (parsed.kind === 'exit') return parsed;
    envArgs = parsed.values;
  }
  const named = cli.config ?? envArgs?.['config'] ?? env[envName('config')];
  // `tsgun ecosystem.config.js` (or `tsgun start ...`): the file is the config, the app is in it.
  const ecosystem = typeof cli.app === 'string' && isEcosystemName(cli.app) ? cli.app : undefined;
  if (ecosystem !== undefined) {
    if (named !== undefined)
      throw new ConfigError([
        `--config: ${String(named)} and the ecosystem file ${ecosystem}: give one of them`,
      ]);
    const { app: _, ...rest } = cli;
    cli = rest;
  }
  const configPath = ecosystem ?? named ?? discoverConfig(dir);
  const seconds = startupSeconds([
    cli.startupTimeout,
    envArgs?.['startupTimeout'],
    env[envName('startupTimeout')],
  ]);
  let warnings: string[] = [];
  let file: { path: string; values: Record<string, unknown> } | undefined;
  if (typeof configPath === 'string') {
    const path = resolvePath(dir, configPath);
    const values = await settleWithin(
      readConfigFile(configPath, path),
      seconds,
      (why) =>
        new ConfigError([`--config: ${configPath} did not settle ${stallReason(why, seconds)}`]),
    );
    const layer = fileLayer(path, values, cli, ecosystem !== undefined);
    file = { path, values: layer.values };
    cli = layer.cli;
    warnings = layer.warnings;
  } else noEcosystem(cli);
  const resolved = resolveConfig({
    env,
    cli,
    ...(envArgs ? { envArgs } : {}),
    ...(file ? { file } : {}),
  });
  return {
    kind: 'run',
    ...(file
      ? { configFile: { path: file.path, discovered: named === undefined && !ecosystem } }
      : {}),
    resolved:
      warnings.length > 0
        ? { ...resolved, warnings: Object.freeze([...warnings, ...resolved.warnings]) }
        : resolved,
  };
}
