import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readRegularFile } from '../../checked-open.js';
import { ErrorCode, TsgunError } from '../../errors.js';
import { isRunning, parsePid } from './pid.js';

/**
 * The pidfile often lives in a directory others can write (/tmp, /run/app): tsgun, maybe root,
 * never writes or reads through a symlink planted there. It writes a new file beside the path and
 * renames it over the path (Gunicorn's way): rename replaces a symlink, it does not follow it.
 */

/** The pid in a regular file at `path` (not through a symlink, never waiting on a FIFO), or null. */
function readPid(path: string): number | null {
  try {
    return parsePid(readRegularFile(path, { noFollow: true }));
  } catch {
    return null;
  }
}

/** Write this process's pid to `path` atomically: a fresh file (O_EXCL) renamed over the path. */
function replaceWithPid(path: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created.
    }
    throw err;
  }
}

/** Write the master's pid, refusing to take over a pidfile whose process still runs. */
export function writePidfile(path: string): void {
  // No pidfile yet, or one that names no pid (garbage is overwritten, never signalled).
  const existing = readPid(path);
  if (existing !== null && existing !== process.pid && isRunning(existing)) {
    throw new TsgunError(
      ErrorCode.PIDFILE,
      `--pid: ${path} names running process ${existing}: is tsgun already running?`,
    );
  }
  try {
    replaceWithPid(path);
  } catch (err) {
    throw new TsgunError(
      ErrorCode.PIDFILE,
      `--pid: cannot write ${path}: ${(err as Error).message}`,
    );
  }
}

/** Remove the pidfile only while it is a regular file that still names this process. */
export function removePidfile(path: string): void {
  try {
    if (readPid(path) === process.pid) unlinkSync(path);
  } catch {
    // Gone already.
  }
}

/** An upgraded master, once the old one is gone, moves `<pidfile>.2` to the pidfile. */
export function promotePidfile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch {
    replaceWithPid(to);
  }
}
