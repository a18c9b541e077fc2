import { existsSync } from 'node:fs';
import { extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkRegularFile, readRegularFile } from '../checked-open.js';
import { ConfigError } from '../errors.js';
import { parseArgs } from './cli.js';
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

export async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const full = resolvePath(path);
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

function discoverConfig(): string | undefined {
  return CONFIG_FILES.find((name) => existsSync(name));
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

/** Read every layer (argv, TSGUN_CMD_ARGS, the environment, the config file) and resolve them. */
export async function loadConfig(argv: readonly string[], env: Env): Promise<LoadResult> {
  const cli = parseArgs(argv);
  if (cli.kind === 'exit') return cli;
  const envArgsText = env[CMD_ARGS_ENV];
  let envArgs: Record<string, unknown> | undefined;
  if (envArgsText) {
    const parsed = parseArgs(cmdArgsWords(envArgsText), CMD_ARGS_ENV);
    if (parsed.kind === 'exit') return parsed;
    envArgs = parsed.values;
  }
  const named = cli.values.config ?? envArgs?.['config'] ?? env[envName('config')];
  const configPath = named ?? discoverConfig();
  const seconds = startupSeconds([
    cli.values.startupTimeout,
    envArgs?.['startupTimeout'],
    env[envName('startupTimeout')],
  ]);
  const file =
    typeof configPath === 'string'
      ? {
          path: resolvePath(configPath),
          values: await settleWithin(
            readConfigFile(configPath),
            seconds,
            (why) =>
              new ConfigError([
                `--config: ${configPath} did not settle ${stallReason(why, seconds)}`,
              ]),
          ),
        }
      : undefined;
  return {
    kind: 'run',
    ...(file ? { configFile: { path: file.path, discovered: named === undefined } } : {}),
    resolved: resolveConfig({
      env,
      cli: cli.values,
      ...(envArgs ? { envArgs } : {}),
      ...(file ? { file } : {}),
    }),
  };
}
