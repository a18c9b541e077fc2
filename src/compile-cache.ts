import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * V8's compile cache (Node 22.1+), turned on by bin/tsgun before the master's bundle loads. The
 * cache holds compiled code that Node runs without recompiling the source, so a directory another
 * user can write to would let that user run code in tsgun (as root, for a root daemon). Node's
 * own default, `<tmpdir>/node-compile-cache`, is shared by every user of the machine: tsgun uses
 * `<tmpdir>/tsgun-compile-cache-<uid>` instead, and only while it is a real directory of this
 * user that no one else may write to. `$NODE_COMPILE_CACHE` (the operator's choice) is used as
 * given; NODE_DISABLE_COMPILE_CACHE=1 turns the cache off. Any failure (a read-only tmpdir, a
 * Node without the cache) leaves it off, silently: it is only ever a faster start.
 */

/** Whether `dir` is a directory (not a symlink) owned by `uid`, writable by no group or other. */
export function isPrivateDir(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Whether no other user can swap `dir`'s entries: owned by `uid` or root, and either sticky (like
 * /tmp) or writable by no group or other. Otherwise someone could rename the private cache
 * directory away after the check and put their own in its place.
 */
export function isSafeParent(dir: string, uid: number): boolean {
  try {
    const st = lstatSync(dir);
    return (
      st.isDirectory() &&
      (st.uid === uid || st.uid === 0) &&
      ((st.mode & 0o1000) !== 0 || (st.mode & 0o022) === 0)
    );
  } catch {
    return false;
  }
}

/** The directory to cache in, or null when there is no safe one. */
export function compileCacheDir(env: NodeJS.ProcessEnv, uid: number, tmp: string): string | null {
  if (env['NODE_DISABLE_COMPILE_CACHE']) return null;
  if (env['NODE_COMPILE_CACHE']) return env['NODE_COMPILE_CACHE'];
  if (!isSafeParent(tmp, uid)) return null;
  const dir = join(tmp, `tsgun-compile-cache-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // Already there (checked next), or tmpdir is read-only.
  }
  return isPrivateDir(dir, uid) ? dir : null;
}

/**
 * Turn the cache on for this process, and name it in NODE_COMPILE_CACHE for the processes tsgun
 * starts (workers, the router, a USR2 master), which Node then turns on at their own start.
 */
export function enableCompileCache(): void {
  const enable = (module as { enableCompileCache?: (dir?: string) => { directory?: string } })
    .enableCompileCache;
  if (typeof enable !== 'function' || typeof process.getuid !== 'function') return;
  try {
    const dir = compileCacheDir(process.env, process.getuid(), tmpdir());
    if (dir === null) return;
    const result = enable(dir);
    if (result?.directory) process.env['NODE_COMPILE_CACHE'] = result.directory;
  } catch {
    // Only ever a faster start.
  }
}
