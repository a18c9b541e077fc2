import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ErrorCode, TsgunError } from '../../errors.js';
import { WORKER_ENV } from '../../ipc/protocol.js';

export interface Credentials {
  readonly uid: number;
  readonly gid: number;
  /** The user's name in the user database, for its supplementary groups (null: none known). */
  readonly name: string | null;
}

type Database = 'passwd' | 'group';

/**
 * One entry of the system's user database, through getent: NSS, so LDAP/SSSD users and groups
 * resolve exactly as `id` and `ls -l` see them. `key` is a name or a numeric id. Without getent
 * (macOS), the plain files are read.
 */
function databaseEntry(db: Database, key: string): string[] | undefined {
  try {
    const out = execFileSync('getent', [db, key], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return out.split('\n')[0]?.split(':');
  } catch (err) {
    // getent exits 2 for a key it does not know; only a missing getent falls back to the files.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
  }
  return fileEntry(`/etc/${db}`, key);
}

function fileEntry(file: string, key: string): string[] | undefined {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === key || (/^\d+$/.test(key) && fields[2] === key)) return fields;
  }
  return undefined;
}

const isId = (value: string): boolean => /^\d+$/.test(value);

/**
 * --user/--group: the credentials workers, the router and cron commands run with. The master
 * binds first, as root, then each child switches (child/drop-privileges.ts: initgroups, setgid,
 * setuid) before it opens a file or loads the app, and refuses to run if it cannot.
 * Every refusal happens here, before anything is bound or forked: an unknown user or group, a
 * numeric uid with no database entry and no --group (its group would silently be root's), or
 * a master that is not root asked to become someone else (naming itself is fine).
 */
export function resolveCredentials(user: string | null, group: string | null): Credentials | null {
  if (user === null && group === null) return null;
  let uid = process.getuid?.() ?? 0;
  let gid = process.getgid?.() ?? 0;
  let name: string | null = null;
  if (user !== null) {
    const entry = databaseEntry('passwd', user);
    if (entry && entry.length >= 4) {
      name = entry[0]!;
      uid = Number(entry[2]);
      gid = Number(entry[3]);
    } else if (isId(user)) {
      uid = Number(user);
      if (group === null) {
        throw new TsgunError(
          ErrorCode.USER,
          `--user: uid ${user} has no entry in the user database: give --group too`,
        );
      }
    } else {
      throw new TsgunError(ErrorCode.USER, `--user: no such user: ${user}`);
    }
  } else {
    name = databaseEntry('passwd', String(uid))?.[0] ?? null;
  }
  if (group !== null) {
    const entry = databaseEntry('group', group);
    if (entry && entry.length >= 3) gid = Number(entry[2]);
    else if (isId(group)) gid = Number(group);
    else throw new TsgunError(ErrorCode.USER, `--group: no such group: ${group}`);
  }
  const same = uid === process.getuid?.() && gid === process.getgid?.();
  if (!same && process.getuid?.() !== 0) {
    throw new TsgunError(
      ErrorCode.USER,
      `--user/--group: switching to uid ${uid} gid ${gid} needs root (tsgun runs as uid ${process.getuid?.()})`,
    );
  }
  return { uid, gid, name };
}

/**
 * The environment entry that makes a child switch to `credentials` itself (child/drop-privileges.ts),
 * keeping the user's supplementary groups, which spawn's uid/gid options would clear.
 */
export function runAsEnv(credentials: Credentials | null | undefined): NodeJS.ProcessEnv {
  return credentials ? { [WORKER_ENV.runAs]: JSON.stringify(credentials) } : {};
}
