import { exec, execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUN_AS_ENTRY as RUN_AS_ENTRY_URL } from '../../entry-points.js';
import type { Logger } from '../../log/logger.js';
import { childEnv } from '../children/spawn.js';
import { type Credentials, runAsEnv } from '../host/user.js';

const EXEC_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 4096;
const RUN_AS_ENTRY = fileURLToPath(RUN_AS_ENTRY_URL);

type ExecError = Error & {
  killed?: boolean;
  code?: number | string | null;
  signal?: string | null;
};

/**
 * `--cron "... exec:COMMAND"`: a shell command started by the master, with a timeout, output
 * logged. With --user/--group it runs as that user, like the workers: the master keeps root only
 * to bind and to manage its children, never to run what the config names.
 */
export function runExec(
  command: string,
  logger: Logger,
  credentials: Credentials | null = null,
): Promise<{ ok: boolean; error: string | null }> {
  const options = { timeout: EXEC_TIMEOUT_MS, maxBuffer: 1024 * 1024, encoding: 'utf8' as const };
  return new Promise((resolve) => {
    const done = (err: ExecError | null, stdout: string, stderr: string): void => {
      const output = { stdout: stdout.slice(0, MAX_OUTPUT), stderr: stderr.slice(0, MAX_OUTPUT) };
      if (err) {
        const why = err.killed
          ? `timed out after ${EXEC_TIMEOUT_MS / 1000} s`
          : `exited with code ${err.code ?? err.signal}`;
        logger.error({ command, ...output }, `cron exec: ${command} ${why}`);
        resolve({ ok: false, error: why });
        return;
      }
      logger.info({ command, ...output }, `cron exec: ${command} done`);
      resolve({ ok: true, error: null });
    };
    // As --user/--group: through child/run-as.ts, which switches (with the supplementary groups)
    // before it starts the shell.
    if (credentials) {
      execFile(
        process.execPath,
        [RUN_AS_ENTRY, command],
        { ...options, env: childEnv(runAsEnv(credentials)) },
        done,
      );
    } else exec(command, { ...options, env: childEnv() }, done);
  });
}
