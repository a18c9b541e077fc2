import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readRegularFile } from '../checked-open.js';
import { ErrorCode, TsgunError } from '../errors.js';

/** `path/to/module[:export]` or `path/to/module:factory()`, as Gunicorn writes `module:app`. */
export interface AppSpec {
  readonly module: string;
  /** null: the default export, else the export named `app`. */
  readonly exportName: string | null;
  /** true when written `name()`: the export is a factory to call (it may be async). */
  readonly call: boolean;
}

const EXPORT = /^([A-Za-z_$][\w$]*)(\(\))?$/;

export function parseAppSpec(spec: string): AppSpec {
  const raw = spec.trim();
  if (raw === '') throw new Error('empty app (expected path/to/module[:export])');
  const colon = raw.lastIndexOf(':');
  if (colon > 0) {
    const match = EXPORT.exec(raw.slice(colon + 1));
    if (!match) {
      throw new Error(
        `invalid export ${JSON.stringify(raw.slice(colon + 1))} (expected a name or name())`,
      );
    }
    return { module: raw.slice(0, colon), exportName: match[1]!, call: match[2] !== undefined };
  }
  return { module: raw, exportName: null, call: false };
}

export function formatAppSpec(app: AppSpec): string {
  if (app.exportName === null) return app.module;
  return `${app.module}:${app.exportName}${app.call ? '()' : ''}`;
}

const EXTENSIONS = [
  '',
  '.js',
  '.mjs',
  '.cjs',
  '.ts',
  '.mts',
  '.cts',
  '/index.js',
  '/index.mjs',
  '/index.cjs',
];

/** The app module's file, as Node would resolve a relative path (extension, index file). */
export function findModule(module: string): string {
  const base = resolve(module);
  for (const ext of EXTENSIONS) {
    const candidate = base + ext;
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new TsgunError(
    ErrorCode.APP_NOT_FOUND,
    `app module not found: ${module} (looked in ${process.cwd()})`,
  );
}

/**
 * --name's default: the `name` in a package.json beside the app module, else the module file's
 * name without its extension (its directory's name for an index file), else `tsgun`.
 */
export function defaultAppName(app: AppSpec | null): string {
  if (!app) return 'tsgun';
  let file: string;
  try {
    file = findModule(app.module);
  } catch {
    return basename(app.module).replace(/\.[cm]?[jt]s$/, '') || 'tsgun';
  }
  try {
    // Read again on HUP, in a directory the app's user may write: a FIFO there is no package.json.
    const pkg = JSON.parse(readRegularFile(join(dirname(file), 'package.json'))) as {
      name?: unknown;
    };
    if (typeof pkg.name === 'string' && pkg.name.trim()) return pkg.name.trim();
  } catch {
    // No package.json there, or not JSON: the file name says it.
  }
  const stem = basename(file).replace(/\.[cm]?[jt]s$/, '');
  return stem === 'index' ? basename(dirname(file)) : stem;
}
