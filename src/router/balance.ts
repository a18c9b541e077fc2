/**
 * Which worker gets the next request: pure functions over the router's view of its upstreams,
 * so the choice is unit-tested without sockets.
 */

export interface UpstreamLoad {
  readonly id: number;
  /** Requests sent and not answered yet (open websockets count too). */
  readonly inflight: number;
}

/**
 * Least outstanding requests. Ties go to the first candidate at or after
 * `cursor` (the caller advances it), so equal workers take turns instead of the first one
 * taking every request of an idle pool.
 */
export function pickLeastOutstanding(upstreams: readonly UpstreamLoad[], cursor: number): number {
  const n = upstreams.length;
  if (n === 0) return -1;
  let best = -1;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (let k = 0; k < n; k++) {
    const i = (cursor + k) % n;
    const u = upstreams[i]!;
    if (u.inflight < bestLoad) {
      best = i;
      bestLoad = u.inflight;
    }
  }
  return best;
}

/** FNV-1a: a stable, cheap hash, so one client IP maps to the same worker in every process. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** --sticky ip: the same client IP gets the same worker while the set of workers is unchanged. */
export function pickByIp(upstreams: readonly UpstreamLoad[], ip: string): number {
  if (upstreams.length === 0) return -1;
  return hashString(ip) % upstreams.length;
}

/**
 * --sticky cookie: the workers a request without a routable cookie may be pinned to. During a
 * rolling reload those the reload is about to replace (`stale`) are left out while a fresh one is
 * routable: a session placed on a stale worker would be moved once more when it stops, and a
 * handshake caught by that stop fails (engine.io's 'Session ID unknown' on the next worker).
 */
export function pinnable<T extends { readonly stale: boolean }>(
  candidates: readonly T[],
): readonly T[] {
  const fresh = candidates.filter((c) => !c.stale);
  return fresh.length > 0 ? fresh : candidates;
}

export const STICKY_COOKIE = 'tsgun_worker';

/** --sticky cookie: the worker id the client's tsgun_worker cookie names, or null. */
export function stickyCookieValue(cookieHeader: string | undefined): number | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== STICKY_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return /^\d{1,9}$/.test(value) ? Number(value) : null;
  }
  return null;
}

/**
 * A request may be sent again to another worker when repeating it cannot do harm: an idempotent
 * method (RFC 9110) and no body that the first attempt may have consumed.
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
export function isRetryable(
  method: string | undefined,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  if (!method || !IDEMPOTENT.has(method)) return false;
  if (headers['transfer-encoding'] !== undefined) return false;
  const length = headers['content-length'];
  return length === undefined || length === '0';
}
