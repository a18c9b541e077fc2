import { closeSync, constants, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { openChecked } from '../checked-open.js';
import { betweenWrites } from '../platform/streams.js';

/**
 * Open a log file for appending, never through a symlink another user planted: tsgun often runs
 * as root, and a link in a shared log directory (`/tmp/app.log -> /etc/passwd`) would have it
 * append to the target. A link owned by root or by tsgun's own user (`/dev/stdout`) is followed;
 * any other is refused (O_NOFOLLOW: ELOOP), and so is a link that replaces the file between the
 * check and the open. `noLinks`: refuse every link (a file given to --user). Never waits, and
 * refuses what is not a regular file (a FIFO planted at the path, a device, /proc/self/mem) but
 * /dev/null and the process's own stdout/stderr (checked-open.ts).
 */
export function openAppend(path: string, opts: { noLinks?: boolean; mode?: number } = {}): number {
  mkdirSync(dirname(path), { recursive: true });
  const st = lstatSync(path, { throwIfNoEntry: false });
  const ownLink = st?.isSymbolicLink() === true && !refusedLink(st, opts.noLinks === true);
  // Said as ELOOP up front: some kernels answer O_CREAT|O_NOFOLLOW on a link with EACCES.
  if (st?.isSymbolicLink() && !ownLink)
    throw Object.assign(new Error(`${path} is a symlink`), { code: 'ELOOP' });
  // O_NONBLOCK: a path to a pipe (`/dev/stdout` when stdout is one) whose reader stops reading
  // answers EAGAIN instead of holding a write, or the exit, forever (bounded-destination.ts);
  // it does nothing to a regular file.
  const flags =
    constants.O_WRONLY |
    constants.O_APPEND |
    constants.O_CREAT |
    constants.O_NONBLOCK |
    (ownLink ? 0 : constants.O_NOFOLLOW);
  return openChecked(path, flags, 'write', opts.mode ?? 0o666);
}

/** Whether openAppend refuses the symlink `st` (lstat of the path): see above. */
export function refusedLink(st: Stats, noLinks: boolean): boolean {
  return st.isSymbolicLink() && (noLinks || (st.uid !== 0 && st.uid !== process.geteuid?.()));
}

/**
 * Reopen (logrotate moved the file): write to `fd` from now on. Swapped between two writes, never
 * under one in flight: sonic-boom writes with `this.fd` and emits 'write' after each completes.
 */
export function swapFd(destination: object, fd: number): void {
  betweenWrites(destination, (dest) => {
    const old = dest.fd;
    dest.fd = fd;
    if (old >= 0) closeSync(old);
  });
}
