import { ErrorCode, TsgunError } from '../errors.js';
import { nodeRequire } from '../node-require.js';

/** node-cron, loaded only for an app that declares jobs. */
const validate = (spec: string): boolean =>
  (nodeRequire('node-cron') as typeof import('node-cron')).validate(spec);

/** An app-declared scheduled job: `export const jobs = [{ name, schedule, run }]`. */
export interface AppJob {
  readonly name: string;
  readonly schedule: string;
  run(): unknown;
}

/** Check the module's `jobs` export; a malformed one fails the boot like a bad app export. */
export function readJobs(value: unknown, module: string): AppJob[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new TsgunError(
      ErrorCode.JOBS,
      `${module}: jobs must be an array of { name, schedule, run }`,
    );
  const names = new Set<string>();
  return value.map((job: unknown, i) => {
    const j = job as Partial<AppJob> | null;
    const where = `${module}: jobs[${i}]`;
    if (!j || typeof j.name !== 'string' || j.name === '')
      throw new TsgunError(ErrorCode.JOBS, `${where} needs a name`);
    if (names.has(j.name))
      throw new TsgunError(
        ErrorCode.JOBS,
        `${where}: the name ${JSON.stringify(j.name)} is used twice`,
      );
    names.add(j.name);
    if (typeof j.schedule !== 'string' || !validate(j.schedule)) {
      throw new TsgunError(
        ErrorCode.JOBS,
        `${where} (${j.name}): invalid cron schedule ${JSON.stringify(j.schedule)}`,
      );
    }
    if (typeof j.run !== 'function')
      throw new TsgunError(ErrorCode.JOBS, `${where} (${j.name}): run must be a function`);
    return j as AppJob;
  });
}
