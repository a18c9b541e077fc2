import type { ChildProcess } from 'node:child_process';

/**
 * Every signal the master sends goes through `signalChild`, and it reaches only a live child this
 * master forked itself. A pid that is not a positive integer would be fatal: `kill(-1)` signals
 * every process the user may signal (as root, the whole host) and `kill(0)` the master's own group.
 * Node leaves `child.pid` undefined when a fork fails (EAGAIN at a process limit, EMFILE, ENOENT),
 * and a reaped pid may already belong to someone else: both are refused here.
 */

/** Pids of children forked by this process and not reaped yet. */
const live = new Set<number>();

/** The pure rule: a pid we may signal. */
export function maySignal(pid: unknown, livePids: ReadonlySet<number>): pid is number {
  return typeof pid === 'number' && Number.isSafeInteger(pid) && pid > 1 && livePids.has(pid);
}

/**
 * Record a child that forked: from now until its exit (Node reaps it before 'exit' is emitted)
 * its pid may be signalled. Returns its pid, or null when the fork failed (no pid).
 */
export function adoptChild(child: ChildProcess): number | null {
  const pid = child.pid;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 1) return null;
  live.add(pid);
  // Registered first, so the pid is gone before any other 'exit' listener runs.
  child.prependOnceListener('exit', () => live.delete(pid));
  return pid;
}

/**
 * Send `sig` to a child of ours. Returns false, and sends nothing, when the pid is not one of our
 * live children (never spawned, reaped already) or the process is gone.
 */
export function signalChild(pid: number | null, sig: NodeJS.Signals): boolean {
  if (!maySignal(pid, live)) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    // Exited, not reaped yet: its exit event is on the way.
    return false;
  }
}
