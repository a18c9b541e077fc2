import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchownSync,
  fstatSync,
  lstatSync,
  statSync,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import { openChecked } from '../../checked-open.js';
import type { Config } from '../../config/registry.js';
import { logFileError, type TsgunError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { openAppend, refusedLink } from '../../log/open-append.js';
import type { Credentials } from './user.js';

/** The log files of a config, by the flag that names them ('-' is a standard stream). */
export function logFiles(
  config: Pick<Config, 'errorLogfile' | 'accessLogfile'>,
): { setting: string; path: string }[] {
  const files = [{ setting: '--error-logfile', path: config.errorLogfile }];
  if (config.accessLogfile) files.push({ setting: '--access-logfile', path: config.accessLogfile });
  return files.filter((f) => f.path !== '-');
}

/** The first directory on the way to `path` that `owner` may not pass through (x bit), or null. */
export function blockedDirectory(path: string, owner: Credentials): string | null {
  const dirs: string[] = [];
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    dirs.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of dirs) {
    const st = statSync(dir, { throwIfNoEntry: false });
    if (!st) return null; // created below, by the master
    // A process forked with uid/gid keeps no supplementary groups: only these two ids count.
    const bit = st.uid === owner.uid ? 0o100 : st.gid === owner.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return dir;
  }
  return null;
}

/** What stops a log file before it is opened: a directory there, or (`chownTo`) a closed path. */
function refuseBeforeOpen(path: string, chownTo: Credentials | null): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
  const blocked = chownTo ? blockedDirectory(path, chownTo) : null;
  if (chownTo && blocked)
    throw new Error(`user ${chownTo.uid} cannot enter ${blocked} (it needs the x permission)`);
}

/**
 * Create every log file, as the master (root), before anything is bound or forked, and give it
 * to the workers' user: a worker that dropped its privileges can then open it, and reopen it
 * after USR1 (called again then, so a file logrotate moved away is created anew, owned right).
 * This is Gunicorn's answer (it chowns its log files to --user/--group). A path that cannot be a
 * log file (a directory, a missing permission) fails here with one line naming the setting.
 * Only regular files, /dev/null and tsgun's own stdout/stderr are opened (log/open-append.ts), and
 * only regular files change owner. As root for another
 * user, a symlink at the path is refused (O_NOFOLLOW): one planted in a shared log directory
 * would otherwise give its target (say /etc/shadow) to the workers' user. Without --user, a link
 * another user owns is refused too (log/open-append.ts): root would append to its target.
 */
export function prepareLogFiles(
  config: Pick<Config, 'errorLogfile' | 'accessLogfile'>,
  owner: Credentials | null,
): void {
  const chown = owner !== null && process.getuid?.() === 0;
  for (const { setting, path } of logFiles(config)) {
    let fd: number;
    try {
      refuseBeforeOpen(path, chown ? owner : null);
      // 0640 when created for another user: the workers write it, its group may read it.
      fd = chown ? openAppend(path, { noLinks: true, mode: 0o640 }) : openAppend(path);
    } catch (err) {
      throw logFileError(setting, path, err);
    }
    try {
      if (chown && fstatSync(fd).isFile()) fchownSync(fd, owner.uid, owner.gid);
    } catch (err) {
      throw logFileError(setting, path, err);
    } finally {
      closeSync(fd);
    }
  }
}

/** The nearest of `path`'s ancestors that exists: where a missing directory would be created. */
function existingAncestor(path: string): string {
  let dir = dirname(resolve(path));
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * --check-config: what prepareLogFiles would refuse, without creating the file or its directory.
 * A file that exists must be one the start could append to; otherwise the directory it would be
 * made in must be writable.
 */
export function logFileProblems(
  config: Pick<Config, 'errorLogfile' | 'accessLogfile'>,
  owner: Credentials | null,
): TsgunError[] {
  const chown = owner !== null && process.getuid?.() === 0;
  const problems: TsgunError[] = [];
  for (const { setting, path } of logFiles(config)) {
    try {
      refuseBeforeOpen(path, chown ? owner : null);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st && refusedLink(st, chown))
        throw Object.assign(new Error(`${path} is a symlink`), { code: 'ELOOP' });
      // (A file on the way to the path made statSync throw ENOTDIR above, as the start's mkdir.)
      // Opened as the start would (never waiting, a FIFO or a device refused), not created.
      if (st) closeSync(openChecked(path, constants.O_WRONLY | constants.O_APPEND, 'write'));
      else accessSync(existingAncestor(path), constants.W_OK | constants.X_OK);
    } catch (err) {
      problems.push(logFileError(setting, path, err));
    }
  }
  return problems;
}

/**
 * prepareLogFiles on USR1 or HUP, in a running master: false, logged, when one cannot be made (a
 * FIFO or a device at the path: refused at once, never waited on).
 */
export function preparedLogFiles(
  config: Pick<Config, 'errorLogfile' | 'accessLogfile'>,
  how: { owner: Credentials | null; logger: Logger; when: string },
): boolean {
  try {
    prepareLogFiles(config, how.owner);
    return true;
  } catch (err) {
    how.logger.error({ err: (err as Error).message }, `${how.when}: ${(err as Error).message}`);
    return false;
  }
}

/**
 * USR1 in the master: files logrotate moved away are created again first, owned by the workers'
 * user, then the master's own log reopens. An error log that cannot be (a FIFO at the path) is
 * logged once and the open file kept.
 */
export function reopenMasterLogs(
  config: Pick<Config, 'errorLogfile' | 'accessLogfile'>,
  log: { reopen(): void },
  how: { owner: Credentials | null; logger: Logger; when: string },
): void {
  const { errorLogfile, accessLogfile } = config;
  preparedLogFiles({ errorLogfile: '-', accessLogfile }, how);
  if (preparedLogFiles({ errorLogfile, accessLogfile: null }, how)) {
    log.reopen();
    how.logger.info('reopened log files (USR1)');
  }
}
