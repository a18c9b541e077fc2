/**
 * Pids that come from the outside world (a pidfile, LISTEN_PID, TSGUN_MASTER_PID) are parsed
 * strictly before any use: `parseInt` would read "-1", "0" or "12abc" as a pid, and `kill(-1, 0)`
 * succeeds for root, so a garbage pidfile would look like a running process.
 */

/** A pid written as decimal digits (surrounding white space allowed), > 1; otherwise null. */
export function parsePid(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (!/^[0-9]{1,10}$/.test(trimmed)) return null;
  const pid = Number(trimmed);
  return Number.isSafeInteger(pid) && pid > 1 ? pid : null;
}

/** Whether a process with this (valid) pid exists, whoever owns it: signal 0 only probes. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
