import { exec } from 'node:child_process';
import type { Logger } from '../log/logger.js';

const EXEC_TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 4096;

/** `--cron "... exec:COMMAND"`: a shell command run by the master, with a timeout, output logged. */
export function runExec(
  command: string,
  logger: Logger,
): Promise<{ ok: boolean; error: string | null }> {
  return new Promise((resolve) => {
    exec(command, { timeout: EXEC_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
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
