import { isIP } from 'node:net';

/** `--route PREFIX=URL`: requests whose path starts with PREFIX go to URL instead of the app. */
export interface RouteEntry {
  readonly prefix: string;
  /** An http(s) origin; the request path is passed on unchanged, as nginx's bare proxy_pass. */
  readonly url: string;
}

export function parseRoute(value: unknown): RouteEntry {
  const text = typeof value === 'string' ? value.trim() : '';
  const eq = text.indexOf('=');
  if (eq <= 0) throw new Error(`expected PREFIX=URL, got ${JSON.stringify(value)}`);
  const prefix = text.slice(0, eq);
  const url = text.slice(eq + 1);
  if (!prefix.startsWith('/'))
    throw new Error(`the prefix must start with "/", got ${JSON.stringify(prefix)}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`expected an http:// or https:// URL after "=", got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`expected an http:// or https:// URL after "=", got ${JSON.stringify(url)}`);
  if (parsed.pathname !== '/' || parsed.search)
    throw new Error(
      `the URL must be an origin (the request path is passed on as is), got ${JSON.stringify(url)}`,
    );
  return { prefix, url: parsed.origin };
}

export const formatRoute = (r: RouteEntry): string => `${r.prefix}=${r.url}`;

/** The longest matching prefix wins; a prefix matches at a path-segment boundary or exactly. */
export function matchRoute(routes: readonly RouteEntry[], path: string): RouteEntry | null {
  let best: RouteEntry | null = null;
  for (const r of routes) {
    const hit =
      path === r.prefix ||
      (path.startsWith(r.prefix) &&
        (r.prefix.endsWith('/') || path[r.prefix.length] === '/' || path[r.prefix.length] === '?'));
    if (hit && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}

/** One entry of --forwarded-allow-ips: `*`, an IP, or a CIDR network (as Gunicorn 22+). */
export function parseAllowIp(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '*') return text;
  const [ip, bits, extra] = text.split('/');
  const family = isIP(ip ?? '');
  const max = family === 4 ? 32 : 128;
  const okBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max);
  if (family === 0 || !okBits || extra !== undefined)
    throw new Error(`expected *, an IP address or a CIDR network, got ${JSON.stringify(value)}`);
  return text;
}
