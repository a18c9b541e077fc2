import assert from 'node:assert/strict';
import { connect } from 'node:net';

/** Raw HTTP/2 floods against an h2c port, for the router's and a direct-mode worker's tests. */

/** One HTTP/2 frame (RFC 9113 4.1). */
function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)) {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream, 5);
  return Buffer.concat([head, payload]);
}
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** GET / http, from HPACK's static table: :method GET, :path /, :scheme http. */
const GET_ROOT = Buffer.from([0x82, 0x84, 0x86]);
const HEADERS = 1;
const RST_STREAM = 3;
const SETTINGS = 4;
const GOAWAY = 7;

/**
 * Sends `bytes` to an h2c port and collects what comes back until the server closes (or
 * `timeoutMs`): whether a GOAWAY frame came, and whether the connection was closed.
 */
function flood(port: number, bytes: Buffer, timeoutMs = 15_000) {
  return new Promise<{ goaway: boolean; closed: boolean }>((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let got = Buffer.alloc(0);
    let goaway = false;
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ goaway, closed });
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      // Walk whole frames for a GOAWAY.
      let at = 0;
      while (got.length - at >= 9) {
        const length = got.readUIntBE(at, 3);
        if (got.length - at < 9 + length) break;
        if (got[at + 3] === GOAWAY) goaway = true;
        at += 9 + length;
      }
      got = got.subarray(at);
    });
    socket.on('error', () => {});
    socket.on('close', () => done(true));
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0), bytes]));
  });
}

/**
 * The floods of issue #31 against an h2c `port` from a trusted peer (started with
 * --header-timeout 1): each gets its bounded answer (GOAWAY and/or a closed connection).
 */
export async function floodsAreRefused(port: number): Promise<void> {
  // 10,000 streams at once: past maxConcurrentStreams they are refused, then the session ends.
  const many: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) many.push(frame(HEADERS, 0x05, 2 * i + 1, GET_ROOT));
  const streams = await flood(port, Buffer.concat(many));
  assert.ok(streams.goaway && streams.closed, JSON.stringify(streams));

  // Rapid reset (CVE-2023-44487): open and cancel streams in a loop.
  const resets: Buffer[] = [];
  const cancel = Buffer.from([0, 0, 0, 8]);
  for (let i = 0; i < 10_000; i++)
    resets.push(frame(HEADERS, 0x04, 2 * i + 1, GET_ROOT), frame(RST_STREAM, 0, 2 * i + 1, cancel));
  const rapid = await flood(port, Buffer.concat(resets));
  assert.ok(rapid.goaway && rapid.closed, JSON.stringify(rapid));

  // A SETTINGS flood: each one asks for an ACK the client never reads.
  const settings: Buffer[] = [];
  for (let i = 0; i < 100_000; i++) settings.push(frame(SETTINGS, 0, 0));
  const flooded = await flood(port, Buffer.concat(settings));
  assert.ok(flooded.closed, JSON.stringify(flooded));

  // A trusted peer that sends nothing is closed at --header-timeout, as an HTTP/1.1 one is.
  const silent = connect({ port, host: '127.0.0.1' });
  silent.on('error', () => {});
  const closed = await new Promise<boolean>((resolve) => {
    const deadline = setTimeout(() => resolve(false), 5_000);
    silent.on('close', () => {
      clearTimeout(deadline);
      resolve(true);
    });
  });
  silent.destroy();
  assert.ok(closed, 'a silent trusted peer is closed at --header-timeout');
}
