import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../../config/registry.js';
import { ErrorCode, type ErrorCodeValue, TsgunError } from '../../errors.js';
import { checkMasterPlatform } from '../../platform/checks.js';
import { controlPath } from '../control/control-socket.js';
import { logFileProblems } from '../host/log-files.js';
import type { Credentials } from '../host/user.js';
import { loadTls } from '../sockets/tls.js';

/**
 * --check-config: what a start would refuse before it serves, found without starting. Nothing is
 * created, bound or written: the TLS files are read and made into a context as the start does,
 * and for each path the start would write (log files, the pidfile, unix sockets) the directory
 * it goes in is checked. Whether a pidfile names a running master is not checked: checking a
 * config before a reload of the running server is what --check-config is for.
 */

/** sun_path is 108 bytes on Linux, the last one the terminating NUL. */
export const MAX_UNIX_PATH = 107;

/** One error line per path a start could not use, in the order of the settings. */
export function startProblems(config: Config, credentials: Credentials | null): TsgunError[] {
  const problems: TsgunError[] = [];
  try {
    checkMasterPlatform(null);
  } catch (err) {
    problems.push(err as TsgunError);
  }
  try {
    loadTls(config);
  } catch (err) {
    problems.push(err as TsgunError);
  }
  problems.push(...logFileProblems(config, credentials));
  if (config.pid) {
    const why = fileProblem(config.pid, 'file');
    if (why)
      problems.push(new TsgunError(ErrorCode.PIDFILE, `--pid: cannot write ${config.pid}: ${why}`));
  }
  const sockets: [string, string, ErrorCodeValue][] = [];
  for (const a of config.bind)
    if (a.kind === 'unix') sockets.push(['--bind', a.path, ErrorCode.BIND_FAILED]);
  if (config.stats?.kind === 'unix')
    sockets.push(['--stats', config.stats.path, ErrorCode.BIND_FAILED]);
  const control = controlPath(config);
  if (control) sockets.push(['--control-socket', control, ErrorCode.CONTROL_SOCKET]);
  for (const [setting, path, code] of sockets) {
    const why = fileProblem(path, 'socket');
    if (why) problems.push(new TsgunError(code, `${setting}: cannot bind unix:${path}: ${why}`));
  }
  return problems;
}

/**
 * Why a start could not create `path` (a `file` it writes, or a `socket` it binds), or null: its
 * directory must exist (neither is made) and be writable; a socket path must fit in sun_path,
 * and what is already there must be what the start would replace.
 */
export function fileProblem(path: string, kind: 'file' | 'socket'): string | null {
  if (kind === 'socket' && Buffer.byteLength(path) > MAX_UNIX_PATH)
    return `the path is ${Buffer.byteLength(path)} bytes, a unix socket's may have at most ${MAX_UNIX_PATH}`;
  const dir = dirname(path);
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) return `no such directory: ${dir}`;
  if (!st.isDirectory()) return `not a directory: ${dir}`;
  // The start refuses a socket there (sockets.ts refuseOpenDirectory): anyone could replace it.
  if (kind === 'socket' && (st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0)
    return `${dir} is writable by every user and not sticky (chmod +t or o-w it)`;
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    return `cannot write in ${dir}`;
  }
  const existing = lstatSync(path, { throwIfNoEntry: false });
  if (existing?.isDirectory()) return 'is a directory';
  if (kind === 'socket' && existing && !existing.isSocket())
    return 'something that is not a socket is at the path';
  return null;
}
