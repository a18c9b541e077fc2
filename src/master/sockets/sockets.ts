import { lchownSync, lstatSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { dirname } from 'node:path';
import { getSystemErrorName } from 'node:util';
import { type BindAddress, formatBindAddress } from '../../config/address.js';
import { describeWanted } from '../../config/on-demand.js';
import { ErrorCode, TsgunError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import { bindWithoutListen, type ServerHandle } from '../../platform/server-handle.js';
import type { Credentials } from '../host/user.js';

export type { ServerHandle };

export interface BoundSocket {
  readonly address: BindAddress;
  /** What people see, with the real port when port 0 was asked for. */
  readonly display: string;
  readonly handle: ServerHandle;
  /** A unix socket file the master created and must remove on exit. */
  readonly ownedPath: string | null;
}

const MESSAGES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
  EINVAL: 'invalid address',
  ENOENT: 'no such directory',
};

function bindError(code: number | string, address: string): TsgunError {
  const name = typeof code === 'number' ? getSystemErrorName(code) : code;
  return new TsgunError(ErrorCode.BIND_FAILED, `${MESSAGES[name] ?? name}: ${address}`);
}

function probeUnixSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const client = net.connect(path);
    client.once('connect', () => {
      client.destroy();
      resolve(true);
    });
    client.once('error', () => resolve(false));
  });
}

/**
 * In a directory any user may write and that lacks the sticky bit, any user can unlink the socket
 * file and bind one of their own at the path: the clients' traffic (and --stats) would go to them.
 * /tmp is sticky, so it is fine; an open one is refused with one line.
 */
function refuseOpenDirectory(path: string, shown: string): boolean {
  const dir = dirname(path);
  const mode = statSync(dir, { throwIfNoEntry: false })?.mode ?? 0;
  if ((mode & 0o002) !== 0 && (mode & 0o1000) === 0)
    throw new TsgunError(
      ErrorCode.BIND_FAILED,
      `${shown}: ${dir} is writable by every user and not sticky (chmod +t or o-w it): refusing to put a socket there`,
    );
  return (mode & 0o002) !== 0;
}

/**
 * Before binding unix:PATH (with -b or --stats): a socket file a live process still serves is in
 * use (never unlink it: that process would lose its address); one nobody answers on is stale and
 * removed; anything that is not a socket is refused. `shown` starts the message (the setting and
 * address). In a sticky directory every user may write (/tmp), a socket file left there by
 * another user than root, tsgun's own or `trustedUids` (--user) is refused, never replaced: it is
 * not ours to remove, and its owner may be waiting to take the path back.
 */
export async function clearStaleUnixSocket(
  path: string,
  shown: string,
  trustedUids: readonly number[] = [],
): Promise<void> {
  const shared = refuseOpenDirectory(path, shown);
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isSocket())
    throw new TsgunError(ErrorCode.BIND_FAILED, `not a socket, refusing to replace it: ${shown}`);
  if (shared && st.uid !== 0 && st.uid !== process.geteuid?.() && !trustedUids.includes(st.uid))
    throw new TsgunError(
      ErrorCode.BIND_FAILED,
      `${shown}: a socket of another user (uid ${st.uid}) is at the path, in a directory every user may write: refusing to replace it`,
    );
  if (await probeUnixSocket(path)) throw bindError('EADDRINUSE', shown);
  unlinkSync(path); // stale socket file left by a process that died
}

/** Bind a TCP handle (ip null: any, IPv6 first as Node does); the bind's own error thrown now. */
function bindTcp(
  ip: string | null,
  port: number,
  family: number,
  shown: string,
): { handle: ServerHandle; out: Record<string, unknown> } {
  const handle = bindWithoutListen(ip, port, family);
  if (typeof handle === 'number') throw bindError(handle, shown);
  // libuv defers EADDRINUSE from bind() to listen(); getsockname() reports it now.
  const out: Record<string, unknown> = {};
  const err = handle.getsockname?.(out) ?? 0;
  if (err !== 0) {
    handle.close();
    throw bindError(err, shown);
  }
  return { handle, out };
}

/** A host name's address (node:dns only then: most binds name an address). */
async function resolveHost(host: string, shown: string): Promise<{ ip: string; family: number }> {
  const family = net.isIP(host);
  if (family !== 0) return { ip: host, family };
  try {
    const { lookup } = await import('node:dns/promises');
    const found = await lookup(host);
    return { ip: found.address, family: found.family };
  } catch {
    throw new TsgunError(ErrorCode.BIND_FAILED, `cannot resolve host: ${shown}`);
  }
}

/**
 * The bind made on demand (on-demand.ts): the address an app's listen() named, host null for any
 * (`::`, or `0.0.0.0` without IPv6, as Node binds). Its address is what the kernel bound.
 */
export async function bindAppAddress(host: string | null, port: number): Promise<BoundSocket> {
  const shown = describeWanted({ host, port });
  const { ip, family } = host === null ? { ip: null, family: 4 } : await resolveHost(host, shown);
  const { handle, out } = bindTcp(ip, port, family, shown);
  const address: BindAddress = {
    kind: 'tcp',
    host: typeof out['address'] === 'string' ? out['address'] : (ip ?? '0.0.0.0'),
    port: Number(out['port']),
  };
  return { address, display: formatBindAddress(address), handle, ownedPath: null };
}

async function bindOnce(
  address: BindAddress,
  trustedUids: readonly number[],
): Promise<BoundSocket> {
  const shown = formatBindAddress(address);
  switch (address.kind) {
    case 'tcp': {
      const { ip, family } = await resolveHost(address.host, shown);
      const { handle, out } = bindTcp(ip, address.port, family, shown);
      const display = formatBindAddress({
        kind: 'tcp',
        host: address.host,
        port: Number(out['port']),
      });
      return { address, display, handle, ownedPath: null };
    }
    case 'unix': {
      await clearStaleUnixSocket(address.path, shown, trustedUids);
      const handle = bindWithoutListen(address.path, -1, -1);
      if (typeof handle === 'number') throw bindError(handle, shown);
      return { address, display: shown, handle, ownedPath: address.path };
    }
    case 'fd': {
      let handle: ServerHandle | number;
      try {
        handle = bindWithoutListen(null, 0, 0, address.fd);
      } catch {
        throw new TsgunError(ErrorCode.BIND_FAILED, `not an open socket: ${shown}`);
      }
      if (typeof handle === 'number') throw bindError(handle, shown);
      return { address, display: shown, handle, ownedPath: null };
    }
  }
}

/**
 * Bind every address before any worker exists. EADDRINUSE is retried a few times, as Gunicorn
 * does, since a previous instance may be just letting go of the port.
 */
export async function bindAll(
  addresses: readonly BindAddress[],
  logger: Logger,
  retry = { attempts: 3, delayMs: 500 },
  /** --user's uid: a stale socket it owns (chownUnixSockets) may be replaced (see above). */
  trustedUids: readonly number[] = [],
): Promise<BoundSocket[]> {
  const bound: BoundSocket[] = [];
  try {
    for (const address of addresses) {
      for (let attempt = 1; ; attempt++) {
        try {
          bound.push(await bindOnce(address, trustedUids));
          break;
        } catch (err) {
          const inUse =
            err instanceof TsgunError && err.message.startsWith(MESSAGES['EADDRINUSE']!);
          if (!inUse || attempt >= retry.attempts) throw err;
          logger.warn(
            { address: formatBindAddress(address) },
            `${err.message}; retrying in ${retry.delayMs} ms`,
          );
          await new Promise((r) => setTimeout(r, retry.delayMs));
        }
      }
    }
  } catch (err) {
    closeAll(bound);
    throw err;
  }
  return bound;
}

/**
 * Sockets handed over by a parent: systemd socket activation (LISTEN_FDS) or an old master's
 * USR2 (TSGUN_FD). They are already bound (and usually listening); the master only wraps them.
 * Unix sockets among them are shown by the address configured at the same position.
 */
export function adoptInherited(
  fds: readonly number[],
  binds: readonly BindAddress[],
  source: string,
  /** A TCP socket with no configured address is named by its own (a USR2 of an on-demand bind). */
  ownAddress = false,
): BoundSocket[] {
  return fds.map((fd, i) => {
    let handle: ServerHandle | number;
    try {
      handle = bindWithoutListen(null, 0, 0, fd);
    } catch {
      throw new TsgunError(ErrorCode.INHERITED_FD, `${source}: fd ${fd} is not an open socket`);
    }
    if (typeof handle === 'number')
      throw new TsgunError(
        ErrorCode.INHERITED_FD,
        `${source}: fd ${fd}: ${getSystemErrorName(handle)}`,
      );
    const out: Record<string, unknown> = {};
    const configured = binds[i];
    let display = configured?.kind === 'unix' ? formatBindAddress(configured) : `fd://${fd}`;
    let own: BindAddress | null = null;
    if (handle.getsockname && handle.getsockname(out) === 0 && typeof out['port'] === 'number') {
      own = { kind: 'tcp', host: String(out['address']), port: out['port'] };
      display = formatBindAddress(own);
    }
    const address = configured ?? (ownAddress ? own : null) ?? { kind: 'fd', fd };
    return { address, display, handle, ownedPath: null };
  });
}

export function closeAll(sockets: readonly BoundSocket[], unlink = true): void {
  for (const s of sockets) {
    s.handle.close();
    if (unlink && s.ownedPath) {
      try {
        unlinkSync(s.ownedPath);
      } catch {
        // Already removed: nothing to clean up.
      }
    }
  }
}

/** net.core.somaxconn, the kernel's cap on any listen backlog (null off Linux). */
export function readSomaxconn(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  } catch {
    return null;
  }
}

export function socketUrl(s: BoundSocket, https = false): string {
  return s.address.kind === 'tcp' ? `${https ? 'https' : 'http'}://${s.display}` : s.display;
}

/**
 * Router mode: a worker's private unix socket, in a directory only tsgun can use. Bound here so
 * the worker inherits it like any socket; closing the handle (when the worker is reaped) removes
 * the file, since libuv unlinks a pipe it bound when it closes it. Mode 0600, owned by `owner`
 * (--user/--group) when given: the router runs as that user and connecting needs write access.
 */
export function bindPrivateUnix(path: string, owner: Credentials | null = null): BoundSocket {
  // Created 0600 by bind itself (umask 0177), and its owner changed with lchown: the directory
  // belongs to the workers' user, so nothing done by path after the bind may follow a link.
  const umask = process.umask(0o177);
  let handle: ReturnType<typeof bindWithoutListen>;
  try {
    handle = bindWithoutListen(path, -1, -1);
  } finally {
    process.umask(umask);
  }
  if (typeof handle === 'number') throw bindError(handle, `unix:${path}`);
  try {
    if (owner) lchownSync(path, owner.uid, owner.gid);
  } catch (err) {
    handle.close();
    throw bindError((err as NodeJS.ErrnoException).code ?? 'EACCES', `unix:${path}`);
  }
  return { address: { kind: 'unix', path }, display: `unix:${path}`, handle, ownedPath: path };
}

/**
 * -b unix:PATH with --user/--group: the socket file belongs to the workers' user and group, as
 * Gunicorn does, so a front proxy in that group can connect (with --umask 007, say).
 */
export function chownUnixSockets(sockets: readonly BoundSocket[], owner: Credentials | null): void {
  if (!owner) return;
  for (const s of sockets) {
    if (!s.ownedPath) continue;
    try {
      // lchown: a link swapped in after the bind (in /tmp, say) is changed, never its target.
      lchownSync(s.ownedPath, owner.uid, owner.gid);
    } catch (err) {
      throw bindError((err as NodeJS.ErrnoException).code ?? 'EACCES', s.display);
    }
  }
}
