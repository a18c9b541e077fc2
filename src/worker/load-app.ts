import { pathToFileURL } from 'node:url';
import type { AppSpec } from '../config/app-spec.js';
import { findModule, formatAppSpec } from '../config/app-spec.js';
import { ErrorCode, TsgunError } from '../errors.js';
import { appLoadError } from './app-error.js';
import { type AppTarget, describeValue, recognise, someNames, suggestExport } from './app-forms.js';
import { type AppJob, readJobs } from './jobs.js';

// Declared with the forms that produce them (app-forms.ts), which must not import this file back.
export type { AppTarget, FetchApp } from './app-forms.js';

/** Which form an export is, or a TsgunError naming what it is and which APP to write instead. */
export async function classifyExport(
  value: unknown,
  label: string,
  hint = 'export a request listener, an http.Server, a Fastify, Koa, Express or Hono app, or an object with fetch()',
): Promise<AppTarget> {
  const form = recognise(value);
  if (form) return form.target(label);
  throw new TsgunError(
    ErrorCode.APP_EXPORT_TYPE,
    `${label} is ${describeValue(value)}, not an app: ${hint}`,
  );
}

/** Import the app module (ESM or CommonJS), pick the export and call the factory if asked. */
export async function loadApp(spec: AppSpec): Promise<{ target: AppTarget; jobs: AppJob[] }> {
  const file = findModule(spec.module);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw appLoadError(`cannot load app module ${spec.module}`, err, file);
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
        `export "${spec.exportName}" not found in ${spec.module} (it exports: ${someNames(names)})`,
      );
    }
  } else {
    label = `the default export of ${spec.module}`;
    value = mod['default'];
    if (recognise(value) === null) {
      const app = mod['app'] ?? cjs['app'];
      if (app !== undefined) {
        value = app;
        label = `export "app" of ${spec.module}`;
      }
    }
    if (value === undefined) {
      throw new TsgunError(
        ErrorCode.APP_EXPORT_MISSING,
        `${spec.module} has no default export and no export named "app": ${suggestExport(spec.module, { ...cjs, ...mod })}`,
      );
    }
  }
  if (spec.call) {
    if (typeof value !== 'function') {
      throw new TsgunError(
        ErrorCode.APP_EXPORT_TYPE,
        `${label} is ${describeValue(value)}, so ${formatAppSpec(spec)} cannot call it: ${suggestExport(spec.module, { ...cjs, ...mod })}`,
      );
    }
    try {
      value = await (value as () => unknown)();
    } catch (err) {
      throw appLoadError(`factory ${formatAppSpec(spec)} threw`, err, null);
    }
    label = `the value returned by ${formatAppSpec(spec)}`;
  }
  const jobs = readJobs(mod['jobs'] ?? cjs['jobs'], spec.module);
  const hint = suggestExport(spec.module, { ...cjs, ...mod });
  return { target: await classifyExport(value, label, hint), jobs };
}
