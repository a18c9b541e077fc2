import { isIP } from 'node:net';
import { resolve as resolvePath } from 'node:path';

/** Where the master binds. Parsed once, from Gunicorn's `--bind` syntax. */
export type BindAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

const DEFAULT_PORT = 8000;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/;

function parsePort(text: string, spec: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new Error(`invalid port in ${JSON.stringify(spec)} (expected 0-65535)`);
  }
  return Number(text);
}

/**
 * Parse one bind spec: `HOST:PORT`, `:PORT` (all IPv4 interfaces, as in Gunicorn), `HOST`
 * (port 8000), `[::1]:PORT`, `tcp://HOST:PORT`, `unix:PATH` (also `unix://PATH`), `fd://N`.
 * Throws an Error whose message names what is wrong; the caller adds the setting name.
 */
export function parseBindAddress(spec: string): BindAddress {
  const raw = spec.trim();
  if (raw === '') throw new Error('empty address');
  if (raw.startsWith('unix:')) {
    const path = raw.replace(/^unix:(\/\/)?/, '');
    if (path === '') throw new Error(`missing path in ${JSON.stringify(spec)}`);
    return {
      kind: 'unix',
      path: raw.startsWith('unix://') ? `/${path.replace(/^\/+/, '')}` : path,
    };
  }
  if (raw.startsWith('fd://')) {
    const text = raw.slice(5);
    if (!/^\d+$/.test(text) || Number(text) < 3) {
      throw new Error(
        `invalid file descriptor in ${JSON.stringify(spec)} (expected fd://N, N >= 3)`,
      );
    }
    return { kind: 'fd', fd: Number(text) };
  }
  const hostPort = raw.startsWith('tcp://') ? raw.slice(6) : raw;
  let host: string;
  let port = DEFAULT_PORT;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end < 0) throw new Error(`unclosed [ in ${JSON.stringify(spec)}`);
    host = hostPort.slice(1, end);
    const rest = hostPort.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':'))
        throw new Error(`unexpected ${JSON.stringify(rest)} in ${JSON.stringify(spec)}`);
      port = parsePort(rest.slice(1), spec);
    }
    if (isIP(host) !== 6) throw new Error(`invalid IPv6 address in ${JSON.stringify(spec)}`);
    return { kind: 'tcp', host, port };
  }
  const colon = hostPort.lastIndexOf(':');
  if (colon >= 0) {
    if (hostPort.indexOf(':') !== colon) {
      throw new Error(`IPv6 addresses need brackets: ${JSON.stringify(spec)} (e.g. [::1]:8000)`);
    }
    host = hostPort.slice(0, colon) || '0.0.0.0';
    port = parsePort(hostPort.slice(colon + 1), spec);
  } else {
    host = hostPort;
  }
  // No host name is all digits and dots (no top-level domain is numeric): such a host is an IPv4
  // address, and one the resolver would not read as written (256.1.1.1, 10.1) is a mistake.
  if (/^[\d.]+$/.test(host) && isIP(host) !== 4) {
    throw new Error(
      `invalid IPv4 address in ${JSON.stringify(spec)} (expected four numbers 0-255, e.g. 127.0.0.1)`,
    );
  }
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new Error(`invalid host in ${JSON.stringify(spec)}`);
  }
  return { kind: 'tcp', host, port };
}

/**
 * The socket an address binds, one string per socket whatever the spelling: `:8000` and
 * `0.0.0.0:8000`, `[0::1]:80` and `[::1]:80`, `unix:./a` and `unix:a`. Null for port 0, which
 * binds a different free port each time it is given.
 */
function socketKey(address: BindAddress): string | null {
  switch (address.kind) {
    case 'tcp': {
      if (address.port === 0) return null;
      // The URL parser writes each IP family's address in its one canonical form.
      const host = isIP(address.host) === 6 ? `[${address.host}]` : address.host;
      return `tcp:${new URL(`http://${host}/`).hostname}:${address.port}`;
    }
    case 'unix':
      return `unix:${resolvePath(address.path)}`;
    case 'fd':
      return `fd:${address.fd}`;
  }
}

/**
 * The first address given twice in `specs` (each as written), or null: both binds would succeed
 * (SO_REUSEADDR, nothing listens yet) and the second listen(2) fail in a worker, which would be
 * reported as a worker that cannot boot instead of the setting.
 */
export function duplicateBind(specs: readonly string[]): string | null {
  const seen = new Map<string, string>();
  const tcp: { spec: string; host: string; port: number }[] = [];
  for (const spec of specs) {
    const address = parseBindAddress(spec);
    const key = socketKey(address);
    if (key === null) continue;
    const first = seen.get(key);
    if (first !== undefined)
      return first.trim() === spec.trim()
        ? `${JSON.stringify(spec)} is given twice`
        : `${JSON.stringify(first)} and ${JSON.stringify(spec)} are the same address`;
    seen.set(key, spec);
    if (address.kind !== 'tcp') continue;
    const host = key.slice(4, key.lastIndexOf(':'));
    for (const other of tcp) {
      if (other.port !== address.port) continue;
      const wide = covers(other.host, host) ? other.spec : covers(host, other.host) ? spec : null;
      if (wide !== null)
        return `${JSON.stringify(wide)} takes port ${address.port} on every address, ${JSON.stringify(wide === spec ? other.spec : spec)} included`;
    }
    tcp.push({ spec, host, port: address.port });
  }
  return null;
}

/**
 * Whether binding the wildcard `wide` takes the port of `host` too (both canonical, host names
 * never: they are resolved only at bind). `[::]` is dual-stack (Node sets no IPV6_V6ONLY).
 */
function covers(wide: string, host: string): boolean {
  if (wide === '[::]') return isIP(host) !== 0 || host.startsWith('[');
  return wide === '0.0.0.0' && isIP(host) === 4;
}

/** The one way an address is shown to people: in logs, errors and --print-config. */
export function formatBindAddress(address: BindAddress): string {
  switch (address.kind) {
    case 'tcp':
      return isIP(address.host) === 6
        ? `[${address.host}]:${address.port}`
        : `${address.host}:${address.port}`;
    case 'unix':
      return `unix:${address.path}`;
    case 'fd':
      return `fd://${address.fd}`;
  }
}
