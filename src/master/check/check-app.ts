import { once } from 'node:events';
import type { Config } from '../../config/registry.js';
import { bootExitCode, ErrorCode, ExitCode, type TsgunError } from '../../errors.js';
import { receiveFromWorker } from '../../ipc/receive.js';
import { checkServingPlatform } from '../../platform/checks.js';
import { forkWorker } from '../children/spawn.js';
import { resolveCredentials } from '../host/user.js';
import { startProblems } from './check-start.js';

/** A fallback the check chose is said as a start would log it (the check has no logger). */
const stderrWarnings = {
  warn: (_fields: Record<string, unknown>, message: string) => {
    process.stderr.write(`tsgun: warning: ${message}\n`);
  },
};

/**
 * --check-config: the settings resolved; now what the start would check (check-start.ts), then
 * load the app in a throwaway worker.
 */
export async function checkApp(config: Config): Promise<number> {
  const credentials = resolveCredentials(config.user, config.group);
  const problems = startProblems(config, credentials);
  // What serving relies on: the start checks it once, in the master, for the children.
  if (problems.length === 0)
    await checkServingPlatform(stderrWarnings).catch((err: TsgunError) => problems.push(err));
  for (const p of problems) process.stderr.write(`tsgun: error: ${p.message} [${p.code}]\n`);
  if (problems[0]) return problems[0].exitCode;
  const forked = forkWorker({
    id: 0,
    index: 0,
    // As the workers will run (--user), logging to stderr: a check creates no log file.
    config: { ...config, logLevel: 'critical', errorLogfile: '-' },
    sockets: [],
    check: true,
    credentials,
  });
  if (!forked.ok) {
    const err = await forked.error;
    process.stderr.write(
      `tsgun: error: cannot fork the app check: ${err.message} [${ErrorCode.FORK}]\n`,
    );
    return ExitCode.WORKER_BOOT;
  }
  const { child } = forked;
  let problem: string | null = null;
  child.on('message', (value: unknown) => {
    const r = receiveFromWorker(value);
    if (r.kind === 'ours' && r.message.type === 'boot-error')
      problem = `${r.message.message} [${r.message.code}]`;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code === 0) {
    process.stdout.write('tsgun: config OK\n');
    return ExitCode.OK;
  }
  process.stderr.write(`tsgun: error: ${problem ?? `app check exited with code ${code}`}\n`);
  return bootExitCode(code);
}
