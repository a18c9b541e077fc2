import { once } from 'node:events';
import { connect as connectTcp, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { unreadBytes } from './kernel.js';
import { pollUntil } from './tsgun.js';

/**
 * A TLS client behind a PROXY protocol header, as an AWS NLB or HAProxy in `mode tcp` passes TLS
 * through: the raw connection sends `header` before the handshake, either in the same write as
 * the ClientHello (`together`: one TCP segment, the case where the bytes after the header must
 * not be lost) or in a write of its own, which the server has read before the handshake starts.
 */
export interface HeaderFirstOptions {
  readonly header: Buffer;
  readonly together: boolean;
  /** The client's own address (127.0.0.1 by default). */
  readonly from?: string;
  readonly alpn?: string[];
}

export interface HeaderFirst {
  /** The TLS socket, handshake under way. */
  readonly tls: TLSSocket;
  /** The raw connection's own port. */
  readonly local: number;
}

export async function tlsAfterHeader(port: number, o: HeaderFirstOptions): Promise<HeaderFirst> {
  const raw = connectTcp({ port, host: '127.0.0.1', localAddress: o.from ?? '127.0.0.1' });
  raw.on('error', () => {});
  raw.setNoDelay(true);
  await once(raw, 'connect');
  const local = raw.localPort ?? 0;
  let under: Duplex = raw;
  if (o.header.length > 0 && o.together) under = prefixFirstWrite(raw, o.header);
  else if (o.header.length > 0) {
    await new Promise((done) => raw.write(o.header, done));
    await serverRead(port, local);
  }
  const tls = connectTls({
    socket: under,
    rejectUnauthorized: false,
    ALPNProtocols: o.alpn ?? ['http/1.1'],
  });
  tls.on('error', () => {});
  return { tls, local };
}

/** A stream over `raw` whose first write (the ClientHello) goes out in one write with `prefix`. */
function prefixFirstWrite(raw: Socket, prefix: Buffer): Duplex {
  let first: Buffer | null = prefix;
  const relay = new Duplex({
    read: () => raw.resume(),
    // The TLS client corks its writes: all of a flight arrives here in one call.
    writev(chunks, done) {
      const out = Buffer.concat([...(first ? [first] : []), ...chunks.map((c) => c.chunk)]);
      first = null;
      raw.write(out, done);
    },
    final: (done) => raw.end(done),
    destroy: (err, done) => {
      raw.destroy();
      done(err);
    },
  });
  raw.on('data', (chunk: Buffer) => {
    if (!relay.push(chunk)) raw.pause();
  });
  raw.on('end', () => relay.push(null));
  raw.on('close', () => relay.destroy());
  return relay;
}

/** The server has read the header alone: nothing is left unread on its end (no event for it). */
async function serverRead(port: number, local: number): Promise<void> {
  if (!(await pollUntil(() => unreadBytes(port, local) === 0, 5000)))
    throw new Error(`the server did not read the header (:${local})`);
}
