import { readFileSync } from 'node:fs';
import { ErrorCode, TsgunError } from '../errors.js';

export interface Credentials {
  readonly uid: number;
  readonly gid: number;
}

/** Find `name` (or a numeric id) in an /etc/passwd- or /etc/group-style file. */
function lookup(file: string, name: string): string[] | undefined {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name || (/^\d+$/.test(name) && fields[2] === name)) return fields;
  }
  return undefined;
}

/**
 * --user/--group: the credentials workers run with. Workers drop privileges by being forked with
 * them, after the master has bound the sockets, so port 80 works without running the app as root.
 * Names are read from /etc/passwd and /etc/group (numeric ids need no entry).
 */
export function resolveCredentials(user: string | null, group: string | null): Credentials | null {
  if (user === null && group === null) return null;
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  if (user !== null) {
    const entry = lookup('/etc/passwd', user);
    if (entry) {
      uid = Number(entry[2]);
      gid = Number(entry[3]);
    } else if (/^\d+$/.test(user)) {
      uid = Number(user);
    } else {
      throw new TsgunError(ErrorCode.USER, `--user: no such user: ${user}`);
    }
  }
  if (group !== null) {
    const entry = lookup('/etc/group', group);
    if (entry) gid = Number(entry[2]);
    else if (/^\d+$/.test(group)) gid = Number(group);
    else throw new TsgunError(ErrorCode.USER, `--group: no such group: ${group}`);
  }
  const same = uid === process.getuid?.() && gid === process.getgid?.();
  if (!same && process.getuid?.() !== 0) {
    throw new TsgunError(
      ErrorCode.USER,
      `--user/--group: switching to uid ${uid} gid ${gid} needs root`,
    );
  }
  return { uid, gid };
}
