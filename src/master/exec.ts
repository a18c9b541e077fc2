import { exec } from 'node:child_process';
import type { Logger } from '../log/logger.js';
import type { Credentials } from './user.js';

const EXEC_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 4096;

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
  const options = {
    timeout: EXEC_TIMEOUT_MS,
    maxBuffer: 1024 * 1024,
    ...(credentials ? { uid: credentials.uid, gid: credentials.gid } : {}),
  };
  return new Promise((resolve) => {
    exec(command, options, (err, stdout, stderr) => {
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
    });
  });
}
