import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
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
