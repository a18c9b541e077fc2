import { BlockList, isIPv4 } from 'node:net';

/**
 * X-Forwarded-For/-Proto/-Host, Gunicorn's way: a peer listed in --forwarded-allow-ips may have
 * set them (another proxy in front), so they are kept and extended; anyone else's are replaced,
 * so a client cannot forge its address or scheme.
 */
export interface TrustList {
  readonly all: boolean;
  readonly list: BlockList;
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is checked as 127.0.0.1. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function trustList(entries: readonly string[]): TrustList {
  const list = new BlockList();
  let all = false;
  for (const entry of entries) {
    if (entry === '*') {
      all = true;
      continue;
    }
    const [ip, bits] = entry.split('/') as [string, string | undefined];
    const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(bits), family);
  }
  return { all, list };
}

export function isTrusted(trust: TrustList, address: string | undefined): boolean {
  if (trust.all) return true;
  if (!address) return false;
  const plain = plainAddress(address);
  return trust.list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
}

export interface ForwardedInput {
  readonly peer: string | undefined;
  readonly encrypted: boolean;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly trusted: boolean;
}

export interface Forwarded {
  readonly for: string;
  readonly proto: string;
  readonly host: string;
}

const first = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v.join(', ') : v;

export function forwardedHeaders(input: ForwardedInput): Forwarded {
  const peer = input.peer ? plainAddress(input.peer) : '';
  const host = first(input.headers['host']) ?? '';
  const proto = input.encrypted ? 'https' : 'http';
  if (!input.trusted) return { for: peer, proto, host };
  const prior = first(input.headers['x-forwarded-for']);
  return {
    for: prior ? `${prior}, ${peer}` : peer,
    proto: first(input.headers['x-forwarded-proto']) ?? proto,
    host: first(input.headers['x-forwarded-host']) ?? host,
  };
}
