import { ErrorCode, TsgunError } from '../errors.js';
import { WORKER_ENV } from '../ipc/protocol.js';

/** process.initgroups exists on POSIX in Node 20-24; @types/node leaves it out. */
type WithInitgroups = NodeJS.Process & { initgroups(user: string, extraGroup: number): void };

/** --user/--group as the master resolved them (master/host/user.ts Credentials has this shape). */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly name: string | null;
}

/**
 * Switch to --user/--group: supplementary groups first (initgroups, as Gunicorn and nginx do;
 * Node's spawn `uid`/`gid` options clear them), then the group, then the user, since a process
 * that gave up root can change neither. Checked after: a child that is still root, or anyone else
 * than asked, refuses to run (returns the error to report).
 */
export function dropPrivileges(): TsgunError | null {
  const raw = process.env[WORKER_ENV.runAs];
  delete process.env[WORKER_ENV.runAs];
  if (!raw) return null;
  const want = JSON.parse(raw) as RunAs;
  const refuse = (why: string) =>
    new TsgunError(
      ErrorCode.USER,
      `--user/--group: cannot switch to uid ${want.uid} gid ${want.gid}: ${why}; refusing to run as uid ${process.getuid?.()}`,
    );
  try {
    const already = process.getuid?.() === want.uid && process.getgid?.() === want.gid;
    // A master that is not root and runs as --user itself: nothing to change, nothing it could.
    if (!(already && process.getuid?.() !== 0)) {
      const { initgroups } = process as Partial<WithInitgroups>;
      if (want.name !== null && initgroups) initgroups(want.name, want.gid);
      else process.setgroups?.([want.gid]);
      process.setgid?.(want.gid);
      process.setuid?.(want.uid);
    }
  } catch (err) {
    return refuse((err as Error).message);
  }
  const ids = [process.getuid?.(), process.geteuid?.(), process.getgid?.(), process.getegid?.()];
  if (ids.some((id, i) => id !== (i < 2 ? want.uid : want.gid))) {
    return refuse(`still uid ${ids[0]}/${ids[1]} gid ${ids[2]}/${ids[3]}`);
  }
  return null;
}
