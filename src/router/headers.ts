/**
 * The header lists the router sends on, as pure functions over raw (name, value) pairs, so the
 * hop-by-hop rules are unit-tested without sockets.
 */
import type { Forwarded } from './forwarded.js';

/**
 * Hop-by-hop (RFC 9110 7.6.1) plus `Transfer-Encoding`, whose framing each side of the router
 * decides for itself. `Expect` is answered by the router's own server (100 Continue) before the
 * request is proxied, so it is not passed on either.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const REQUEST_ONLY = new Set([
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
]);
/** Client-set address headers that only a trusted peer (another proxy) may pass on. */
const UNTRUSTED_DROPPED = new Set(['forwarded', 'x-real-ip']);

/** The header names a `Connection` header lists (RFC 9110 7.6.1): hop-by-hop for this message. */
export function connectionTokens(value: string | undefined): ReadonlySet<string> | null {
  if (!value) return null;
  let names: Set<string> | null = null;
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    names ??= new Set();
    names.add(name);
  }
  return names;
}

/**
 * What the worker gets: the client's headers as Node parsed them, in order, minus hop-by-hop
 * ones and those its `Connection` names, with X-Forwarded-* set by the router (`forwarded`), and
 * `Forwarded` / `X-Real-IP` kept only from a trusted peer.
 */
export function requestHeaders(
  raw: readonly string[],
  connection: string | undefined,
  forwarded: Forwarded,
  trusted: boolean,
): string[] {
  const named = connectionTokens(connection);
  const out: string[] = [];
  let authority: string | null = null;
  let host = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // HTTP/2 pseudo-headers (:method, :path...) are not HTTP/1.1 fields; :authority is the Host.
    if (name.charCodeAt(0) === 58) {
      if (name === ':authority') authority = raw[i + 1]!;
      continue;
    }
    const lower = name.toLowerCase();
    if (lower === 'host') host = true;
    if (HOP_BY_HOP.has(lower) || REQUEST_ONLY.has(lower) || named?.has(lower)) continue;
    if (!trusted && UNTRUSTED_DROPPED.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  if (!host && authority !== null) out.push('host', authority);
  out.push(
    'x-forwarded-for',
    forwarded.for,
    'x-forwarded-proto',
    forwarded.proto,
    'x-forwarded-host',
    forwarded.host,
  );
  return out;
}

/**
 * What the client gets from the worker's response head (raw latin1 pairs as undici reads them):
 * hop-by-hop headers and those the worker's `Connection` names dropped; the router decides the
 * client connection's `Connection` and `Keep-Alive` itself.
 */
export function responseHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = [];
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1');
    const lower = name.toLowerCase();
    if (lower === 'connection') {
      const value = raw[i + 1]!.toString('latin1');
      connection = connection === undefined ? value : `${connection}, ${value}`;
      continue;
    }
    if (HOP_BY_HOP.has(lower)) continue;
    out.push(name, raw[i + 1]!.toString('latin1'));
  }
  const named = connectionTokens(connection);
  if (named === null) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2)
    if (!named.has(out[i]!.toLowerCase())) kept.push(out[i]!, out[i + 1]!);
  return kept;
}

/**
 * A request the router answers 400 instead of passing on (RFC 9112 3.2 and 3.2.1): more than one
 * `Host`, or a request target that is neither a path nor an absolute http(s) URL (`OPTIONS *`,
 * an authority outside CONNECT), which cannot be sent to a worker as it is.
 */
export function badRequest(url: string, raw: readonly string[]): boolean {
  if (url[0] !== '/' && !url.startsWith('http://') && !url.startsWith('https://')) return true;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++hosts > 1) return true;
  }
  return false;
}
