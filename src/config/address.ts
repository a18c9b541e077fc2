import { isIP } from 'node:net';

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
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new Error(`invalid host in ${JSON.stringify(spec)}`);
  }
  return { kind: 'tcp', host, port };
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
