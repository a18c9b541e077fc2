import { BlockList, isIPv4, SocketAddress } from 'node:net';

/** Peers given as IPs, CIDRs or `*` (--forwarded-allow-ips, --proxy-allow-from). */
export interface TrustList {
  readonly all: boolean;
  /** Single addresses (the default list): a Set lookup, no SocketAddress per request. */
  readonly exact: ReadonlySet<string>;
  /** CIDR networks, or null when there are none. */
  readonly list: BlockList | null;
}

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is checked as 127.0.0.1. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function trustList(entries: readonly string[]): TrustList {
  let list: BlockList | null = null;
  const exact = new Set<string>();
  let all = false;
  for (const entry of entries) {
    if (entry === '*') {
      all = true;
      continue;
    }
    const [ip, bits] = entry.split('/') as [string, string | undefined];
    if (bits === undefined) {
      // The form Node reports a peer in (IPv6 compressed and lower case).
      exact.add(isIPv4(ip) ? ip : new SocketAddress({ address: ip, family: 'ipv6' }).address);
      continue;
    }
    list ??= new BlockList();
    list.addSubnet(ip, Number(bits), isIPv4(ip) ? 'ipv4' : 'ipv6');
  }
  return { all, exact, list };
}

export function isTrusted(trust: TrustList, address: string | undefined): boolean {
  if (trust.all) return true;
  if (!address) return false;
  const plain = plainAddress(address);
  if (trust.exact.has(plain)) return true;
  return trust.list?.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6') === true;
}
