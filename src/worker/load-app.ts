import { existsSync, statSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { Server as NetServer } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppSpec } from '../config/app-spec.js';
import { formatAppSpec } from '../config/app-spec.js';
import { ErrorCode, TsgunError } from '../errors.js';
import { type AppJob, readJobs } from './jobs.js';

export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

/** The four things an app module may export, once a factory has been called. */
export type AppTarget =
  | { readonly kind: 'listener'; readonly listener: RequestListener }
  | { readonly kind: 'server'; readonly server: NetServer }
  | { readonly kind: 'fetch'; readonly app: FetchApp };

const EXTENSIONS = ['', '.js', '.mjs', '.cjs', '/index.js', '/index.mjs', '/index.cjs'];

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

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object'
    ? `an object with keys ${Object.keys(value).join(', ') || '(none)'}`
    : `a ${typeof value}`;
}

function isFetchApp(value: unknown): value is FetchApp {
  return (
    value !== null && typeof value === 'object' && typeof (value as FetchApp).fetch === 'function'
  );
}

/** Which of the four forms an export is, or a TsgunError naming what it is instead. */
export function classifyExport(value: unknown, label: string): AppTarget {
  if (value instanceof NetServer) {
    if (value.listening) {
      throw new TsgunError(
        ErrorCode.APP_EXPORT_TYPE,
        `${label} is a server that is already listening: export it without calling listen()`,
      );
    }
    return { kind: 'server', server: value };
  }
  if (isFetchApp(value)) return { kind: 'fetch', app: value };
  if (typeof value === 'function') return { kind: 'listener', listener: value as RequestListener };
  throw new TsgunError(
    ErrorCode.APP_EXPORT_TYPE,
    `${label} is ${kindOf(value)}; expected a request listener (req, res), an http.Server, an object with fetch(), or a factory written name()`,
  );
}

/** Import the app module (ESM or CommonJS), pick the export and call the factory if asked. */
export async function loadApp(spec: AppSpec): Promise<{ target: AppTarget; jobs: AppJob[] }> {
  const file = findModule(spec.module);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const kind = err instanceof Error && err.name !== 'Error' ? `${err.name}: ` : '';
    throw new TsgunError(
      ErrorCode.APP_LOAD,
      `cannot load app module ${spec.module}: ${kind}${firstLine(err)}`,
    );
  }
  // A CommonJS module's exports object arrives as `default`; its named exports may also be there.
  const cjs =
    mod['default'] !== null && typeof mod['default'] === 'object'
      ? (mod['default'] as Record<string, unknown>)
      : {};
  let value: unknown;
  let label: string;
  if (spec.exportName !== null) {
    label = `export "${spec.exportName}" of ${spec.module}`;
    value = spec.exportName in mod ? mod[spec.exportName] : cjs[spec.exportName];
    if (value === undefined) {
      const names = [...new Set([...Object.keys(mod), ...Object.keys(cjs)])].filter(
        (n) => n !== 'default' && n !== 'module.exports',
      );
      throw new TsgunError(
        ErrorCode.APP_EXPORT_MISSING,
        `export "${spec.exportName}" not found in ${spec.module} (it exports: ${names.join(', ') || 'nothing named'})`,
      );
    }
  } else {
    label = `the default export of ${spec.module}`;
    value = mod['default'];
    const servable = value instanceof NetServer || isFetchApp(value) || typeof value === 'function';
    if (!servable) {
      const app = mod['app'] ?? cjs['app'];
      if (app !== undefined) {
        value = app;
        label = `export "app" of ${spec.module}`;
      }
    }
    if (value === undefined) {
      throw new TsgunError(
        ErrorCode.APP_EXPORT_MISSING,
        `${spec.module} has no default export and no export named "app"`,
      );
    }
  }
  if (spec.call) {
    if (typeof value !== 'function') {
      throw new TsgunError(
        ErrorCode.APP_EXPORT_TYPE,
        `${label} is ${kindOf(value)}, so ${formatAppSpec(spec)} cannot call it`,
      );
    }
    try {
      value = await (value as () => unknown)();
    } catch (err) {
      throw new TsgunError(
        ErrorCode.APP_LOAD,
        `factory ${formatAppSpec(spec)} threw: ${firstLine(err)}`,
      );
    }
    label = `the value returned by ${formatAppSpec(spec)}`;
  }
  const jobs = readJobs(mod['jobs'] ?? cjs['jobs'], spec.module);
  return { target: classifyExport(value, label), jobs };
}
