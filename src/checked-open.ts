import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  type Stats,
  statfsSync,
  statSync,
} from 'node:fs';

/**
 * Files tsgun opens at run time (log files, the config file, TLS files, the pidfile) may sit where
 * another user can replace them: a log directory the workers' user writes, an app directory. A FIFO
 * there blocks open() until a reader comes, in the master's only thread, deaf to TERM; a device or
 * a kernel file (/proc/self/mem) fails or misbehaves on the first write. So every such open is
 * non-blocking (O_NONBLOCK: a FIFO with no reader answers ENXIO at once, one with a reader opens),
 * and what was opened, not what the path named a moment before, is checked with fstat. O_NONBLOCK
 * stays set: regular files and /dev/null ignore it, and on tsgun's own stdout or stderr (a pipe, a
 * terminal) a full buffer answers EAGAIN, which sonic-boom retries, as a blocking write would wait.
 */

type FileKind =
  | 'file'
  | 'directory'
  | 'fifo'
  | 'socket'
  | 'character device'
  | 'block device'
  | 'symlink'
  | 'unknown';

/** What fileProblem needs to know about an open file. */
export interface FileFacts {
  readonly kind: FileKind;
  /** On a kernel file system (/proc, /sys...), whose files pose as regular ones. */
  readonly kernel: boolean;
  /** /dev/null itself (by device number), under any name. */
  readonly devNull: boolean;
  /** The same file as this process's stdout or stderr (`/dev/stdout`, `/proc/self/fd/2`). */
  readonly ownStdio: boolean;
}

/**
 * Why a file must not be used, or null. Only regular files are read or written, and for writing
 * also /dev/null (a device, but one that never blocks nor fails: people send logs there) and the
 * process's own stdout or stderr (what `-` means, under the name `/dev/stdout`).
 */
export function fileProblem(f: FileFacts, use: 'read' | 'write'): string | null {
  if (use === 'write' && (f.devNull || f.ownStdio)) return null;
  if (f.kind === 'file')
    return f.kernel ? 'is a kernel file (/proc, /sys), not a regular file' : null;
  if (f.kind === 'directory') return 'is a directory';
  const article = f.kind === 'unknown' ? 'an' : 'a';
  const name = f.kind === 'fifo' ? 'FIFO' : f.kind === 'unknown' ? 'unknown kind of file' : f.kind;
  const devices = f.kind === 'character device' && use === 'write';
  return `is ${article} ${name}, not a regular file${devices ? " (of devices only /dev/null and tsgun's own stdout/stderr are written)" : ''}`;
}

function kindOf(st: Stats): FileKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

/** statfs(2) magic numbers of the kernel's pseudo file systems (linux/magic.h). */
const KERNEL_FS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x64626720, // debugfs
  0x74726163, // tracefs
  0x73636673, // securityfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
]);

function onKernelFs(fd: number): boolean {
  try {
    // /proc/self/fd/N leads to the open file itself, wherever its path now points.
    return KERNEL_FS.has(statfsSync(`/proc/self/fd/${fd}`).type);
  } catch {
    return false; // no /proc (macOS): no such file systems to tell apart either
  }
}

function sameFile(st: Stats, fd: number): boolean {
  try {
    const other = fstatSync(fd);
    return other.dev === st.dev && other.ino === st.ino;
  } catch {
    return false; // that stdio descriptor is closed
  }
}

function isDevNull(st: Stats): boolean {
  if (!st.isCharacterDevice()) return false;
  try {
    return statSync('/dev/null').rdev === st.rdev;
  } catch {
    return false;
  }
}

/** An error whose message says why the file is refused (`code` EFTYPE, BSD's "wrong file type"). */
function refusal(reason: string): NodeJS.ErrnoException {
  return Object.assign(new Error(reason), { code: 'EFTYPE' });
}

/**
 * open(2) without ever waiting, then refuse anything fileProblem refuses (the descriptor closed).
 * `flags` without O_NONBLOCK: it is added here.
 */
export function openChecked(
  path: string,
  flags: number,
  use: 'read' | 'write',
  mode?: number,
): number {
  let fd: number;
  try {
    fd = openSync(path, flags | constants.O_NONBLOCK, mode);
  } catch (err) {
    // ENXIO: a FIFO with no reader, or a socket file; say what the path is, as for an open one.
    const st =
      (err as NodeJS.ErrnoException).code === 'ENXIO' && statSync(path, { throwIfNoEntry: false });
    const kind = st ? kindOf(st) : 'file';
    if (kind === 'file') throw err;
    throw refusal(
      fileProblem({ kind, kernel: false, devNull: false, ownStdio: false }, use) ?? String(err),
    );
  }
  try {
    const st = fstatSync(fd);
    const problem = fileProblem(
      {
        kind: kindOf(st),
        kernel: st.isFile() && onKernelFs(fd),
        devNull: isDevNull(st),
        ownStdio: sameFile(st, 1) || sameFile(st, 2),
      },
      use,
    );
    if (problem) throw refusal(problem);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The text of a regular file; `noFollow`: a symlink at the path is refused (ELOOP). */
export function readRegularFile(path: string, opts: { noFollow?: boolean } = {}): string {
  const fd = openChecked(
    path,
    constants.O_RDONLY | (opts.noFollow ? constants.O_NOFOLLOW : 0),
    'read',
  );
  try {
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** Throws, as readRegularFile would, unless `path` is a regular file (checked, not read). */
export function checkRegularFile(path: string): void {
  closeSync(openChecked(path, constants.O_RDONLY, 'read'));
}

/** Why opening a file failed, in a few words: the refusal itself, or the errno code. */
export function openFailure(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'EFTYPE') return e.message;
  if (e?.code === 'EISDIR') return 'is a directory';
  return e?.code ?? (e as Error | undefined)?.message ?? String(err);
}
