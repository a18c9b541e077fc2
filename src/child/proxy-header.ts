import { isIP } from 'node:net';

/**
 * The PROXY protocol header (HAProxy's spec, v1 text and v2 binary) a load balancer puts before
 * the client's bytes. Pure: bytes in, a verdict out; the socket side is proxy-protocol.ts.
 */

/** The client a header names; null keeps the peer's own address (LOCAL, UNKNOWN, UNSPEC, unix). */
export interface ProxySource {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

export type HeaderVerdict =
  | { readonly kind: 'more' }
  | { readonly kind: 'done'; readonly consumed: number; readonly source: ProxySource | null }
  | { readonly kind: 'error'; readonly reason: string };

/** v1: "PROXY " ... CRLF, 107 bytes at most (the spec's bound). */
export const V1_MAX = 107;
/** v2: 16 bytes and the length they announce; TLVs beyond this bound are refused. */
export const V2_MAX = 16 + 2048;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

const MORE: HeaderVerdict = { kind: 'more' };
const error = (reason: string): HeaderVerdict => ({ kind: 'error', reason });

/** Whether `data` is a prefix of `of` (or starts with all of it). */
function startsLike(data: Buffer, of: Buffer): boolean {
  const n = Math.min(data.length, of.length);
  return data.subarray(0, n).equals(of.subarray(0, n));
}

function port(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 && (text === '0' || !text.startsWith('0')) ? n : null;
}

function parseV1(data: Buffer): HeaderVerdict {
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return data.length >= V1_MAX ? error('v1 header longer than 107 bytes') : MORE;
  if (end + 2 > V1_MAX) return error('v1 header longer than 107 bytes');
  const parts = data.toString('latin1', 0, end).split(' ');
  const consumed = end + 2;
  if (parts[1] === 'UNKNOWN') return { kind: 'done', consumed, source: null };
  if (parts.length !== 6) return error('malformed v1 header');
  const [, proto, src, dst, sport, dport] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const family = proto === 'TCP4' ? 4 : proto === 'TCP6' ? 6 : 0;
  if (family === 0) return error(`unknown v1 protocol ${proto.slice(0, 16)}`);
  if (isIP(src) !== family || isIP(dst) !== family) return error('bad v1 address');
  const srcPort = port(sport);
  if (srcPort === null || port(dport) === null) return error('bad v1 port');
  return {
    kind: 'done',
    consumed,
    source: { address: src, port: srcPort, family: family === 4 ? 'IPv4' : 'IPv6' },
  };
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Node's own form of the address (compressed), as a peer's remoteAddress reads.
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1);
}

function parseV2(data: Buffer): HeaderVerdict {
  if (data.length < 16) return MORE;
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return error('unknown v2 version');
  const command = versionCommand & 0x0f;
  if (command > 1) return error('unknown v2 command');
  const length = data.readUInt16BE(14);
  const total = 16 + length;
  if (total > V2_MAX) return error(`v2 header of ${total} bytes (over ${V2_MAX})`);
  if (data.length < total) return MORE;
  if (command === 0) return { kind: 'done', consumed: total, source: null }; // LOCAL
  const family = data[13]! >> 4;
  const body = data.subarray(16, total);
  if (family === 1) {
    if (length < 12) return error('v2 IPv4 addresses truncated');
    const address = `${body[0]}.${body[1]}.${body[2]}.${body[3]}`;
    return {
      kind: 'done',
      consumed: total,
      source: { address, port: body.readUInt16BE(8), family: 'IPv4' },
    };
  }
  if (family === 2) {
    if (length < 36) return error('v2 IPv6 addresses truncated');
    const address = ipv6(body.subarray(0, 16));
    return {
      kind: 'done',
      consumed: total,
      source: { address, port: body.readUInt16BE(32), family: 'IPv6' },
    };
  }
  if (family === 0 || family === 3) return { kind: 'done', consumed: total, source: null };
  return error('unknown v2 address family');
}

/** What the bytes received so far say: wait for more, the header read, or a refusal. */
export function parseProxyHeader(data: Buffer): HeaderVerdict {
  if (data.length === 0) return MORE;
  if (startsLike(data, V2_SIGNATURE))
    return data.length < V2_SIGNATURE.length ? MORE : parseV2(data);
  if (startsLike(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? MORE : parseV1(data);
  return error('no PROXY protocol header');
}
