import type { Env } from '../../config/registry.js';
import { ErrorCode, TsgunError } from '../../errors.js';
import { UPGRADE_ENV } from '../../ipc/protocol.js';
import { parsePid } from '../host/pid.js';

export interface Inherited {
  readonly fds: readonly number[];
  readonly source: 'TSGUN_FD' | 'LISTEN_FDS';
  /** For a USR2 upgrade: the old master's pid. */
  readonly upgradeFrom: number | null;
}

/**
 * Listening sockets this process was started with instead of binding: from an old master's USR2
 * (TSGUN_FD) or from systemd socket activation (LISTEN_FDS, fds from 3, only when LISTEN_PID is
 * this process, as sd_listen_fds(3) requires).
 */
export function findInherited(env: Env, pid: number): Inherited | null {
  const tsgunFd = env[UPGRADE_ENV.fds];
  if (tsgunFd) {
    const fds = tsgunFd.split(',').map((s) => Number(s.trim()));
    if (fds.some((fd) => !Number.isInteger(fd) || fd < 3)) {
      throw new TsgunError(
        ErrorCode.INHERITED_FD,
        `TSGUN_FD: expected fd numbers >= 3, got ${JSON.stringify(tsgunFd)}`,
      );
    }
    return { fds, source: 'TSGUN_FD', upgradeFrom: parsePid(env[UPGRADE_ENV.parent]) };
  }
  const count = env['LISTEN_FDS'];
  if (count !== undefined && parsePid(env['LISTEN_PID']) === pid) {
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1) {
      throw new TsgunError(
        ErrorCode.INHERITED_FD,
        `LISTEN_FDS: expected a count >= 1, got ${JSON.stringify(count)}`,
      );
    }
    return {
      fds: Array.from({ length: n }, (_, i) => 3 + i),
      source: 'LISTEN_FDS',
      upgradeFrom: null,
    };
  }
  return null;
}

/** USR2: the --stats socket the old master passed (TSGUN_STATS_FD), or null to bind one. */
export function inheritedStatsFd(env: Env): number | null {
  const raw = env[UPGRADE_ENV.statsFd];
  if (raw === undefined || raw === '') return null;
  const fd = Number(raw.trim());
  if (!Number.isInteger(fd) || fd < 3)
    throw new TsgunError(
      ErrorCode.INHERITED_FD,
      `TSGUN_STATS_FD: expected an fd number >= 3, got ${JSON.stringify(raw)}`,
    );
  return fd;
}

/** Names that must not leak into workers or a later upgrade. */
export const INHERITED_ENV = [
  UPGRADE_ENV.fds,
  UPGRADE_ENV.parent,
  UPGRADE_ENV.statsFd,
  'LISTEN_FDS',
  'LISTEN_PID',
  'LISTEN_FDNAMES',
] as const;
