import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ErrorCode, TsgunError } from '../errors.js';
import { isRunning, parsePid } from './pid.js';

function readPid(path: string): number | null {
  try {
    return parsePid(readFileSync(path, 'utf8'));
  } catch {
    return null;
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
    writeFileSync(path, `${process.pid}\n`);
  } catch (err) {
    throw new TsgunError(
      ErrorCode.PIDFILE,
      `--pid: cannot write ${path}: ${(err as Error).message}`,
    );
  }
}

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
    writeFileSync(to, `${process.pid}\n`);
  }
}
