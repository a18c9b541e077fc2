import type { Logger } from '../../log/logger.js';

/**
 * `npm start` runs tsgun through `sh -c`, and sh neither passes TERM on nor execs (Debian's dash
 * forks): a TERM to npm ends npm and sh and leaves the master serving, orphaned, with nothing
 * left to stop it. Under a package manager's script (it sets `npm_lifecycle_event`, as npm,
 * yarn and pnpm do) the master treats its launcher's exit as a stop. Outside one (a shell,
 * `nohup`, a daemon, systemd) a new parent is normal and changes nothing.
 */

/** Whether the master should stop: it runs under a package manager and its parent changed. */
export function launcherGone(facts: {
  readonly underScript: boolean;
  readonly startPpid: number;
  readonly ppid: number;
}): boolean {
  return facts.underScript && facts.startPpid > 1 && facts.ppid !== facts.startPpid;
}

/** How often the parent is looked at (process.ppid is a system call, nothing more). */
const LOOK_MS = 500;

/** Calls `stop` once if the launcher goes away; returns a function that stops watching. */
export function watchLauncher(
  env: NodeJS.ProcessEnv,
  logger: Logger,
  stop: () => void,
): () => void {
  const underScript = typeof env['npm_lifecycle_event'] === 'string';
  const startPpid = process.ppid;
  if (!underScript || startPpid <= 1) return () => {};
  const timer = setInterval(() => {
    if (!launcherGone({ underScript, startPpid, ppid: process.ppid })) return;
    clearInterval(timer);
    logger.warn(
      { launcherPid: startPpid, script: env['npm_lifecycle_event'] },
      `the process that started tsgun (pid ${startPpid}, the ${env['npm_lifecycle_event']} script's shell) is gone: stopping gracefully, as a TERM would (npm passes no signal through sh)`,
    );
    stop();
  }, LOOK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
