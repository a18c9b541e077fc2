import { ErrorCode, TsgunError } from '../errors.js';
import { jobNameProblem, MAX_APP_JOBS, MAX_SCHEDULE } from '../ipc/limits.js';
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
  if (value.length > MAX_APP_JOBS)
    throw new TsgunError(
      ErrorCode.JOBS,
      `${module}: jobs has ${value.length} entries; at most ${MAX_APP_JOBS} are allowed`,
    );
  const names = new Set<string>();
  return value.map((job: unknown, i) => {
    const j = job as Partial<AppJob> | null;
    const where = `${module}: jobs[${i}]`;
    const problem = jobNameProblem(j?.name);
    if (!j || problem !== null || typeof j.name !== 'string')
      throw new TsgunError(ErrorCode.JOBS, `${where} ${problem}`);
    if (names.has(j.name))
      throw new TsgunError(
        ErrorCode.JOBS,
        `${where}: the name ${JSON.stringify(j.name)} is used twice`,
      );
    names.add(j.name);
    if (
      typeof j.schedule !== 'string' ||
      j.schedule.length > MAX_SCHEDULE ||
      !validate(j.schedule)
    ) {
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
