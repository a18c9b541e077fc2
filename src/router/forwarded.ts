/**
 * X-Forwarded-For/-Proto/-Host, Gunicorn's way: a peer listed in --forwarded-allow-ips may have
 * set them (another proxy in front), so they are kept and extended; anyone else's are replaced,
 * so a client cannot forge its address or scheme.
 */
import { plainAddress } from '../child/trust-list.js';

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
  // HTTP/2 names the host in :authority (RFC 9113 8.3.1), not in Host.
  const host = first(input.headers['host']) ?? first(input.headers[':authority']) ?? '';
  const proto = input.encrypted ? 'https' : 'http';
  if (!input.trusted) return { for: peer, proto, host };
  const prior = first(input.headers['x-forwarded-for']);
  return {
    for: prior ? `${prior}, ${peer}` : peer,
    proto: first(input.headers['x-forwarded-proto']) ?? proto,
    host: first(input.headers['x-forwarded-host']) ?? host,
  };
}
