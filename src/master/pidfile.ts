import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { ErrorCode, TsgunError } from '../errors.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Write the master's pid, refusing to take over a pidfile whose process still runs. */
export function writePidfile(path: string): void {
  let existing: number | null = null;
  try {
    existing = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    // No pidfile yet.
  }
  if (existing && existing !== process.pid && isRunning(existing)) {
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
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) unlinkSync(path);
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
