import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasOpenssl, makeCert } from '../helpers/certs.js';
import {
  curl,
  curlVersion,
  h2load,
  h2Request,
  hasCurlH2,
  hasH2load,
} from '../helpers/h2-clients.js';
import { freePort, getJson, request } from '../helpers/http.js';
import { fixture, isAlive, killAll, startApp, Tsgun, waitForRouter } from '../helpers/tsgun.js';

after(killAll);

async function routerPid(t: Tsgun): Promise<number> {
  const line = await t.waitForLog((l) => l.msg === 'router ready');
  return Number(line['routerPid']);
}

async function startH2(...args: string[]): Promise<Tsgun> {
  const t = startApp('--router', '--http2', '-w', '1', ...args);
  await waitForRouter(t, 1);
  return t;
}

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

const noCurl = !hasCurlH2 && 'curl with HTTP/2 is needed';

describe('HTTP/2 in router mode', () => {
  it('serves h2c prior knowledge to an allowed peer, and HTTP/1.1 on the same port', async () => {
    const statsPort = await freePort();
    const t = await startH2('--stats', `127.0.0.1:${statsPort}`);
    const port = await t.port();
    const client = h2connect(`http://127.0.0.1:${port}`);
    const post = client.request({ ':method': 'POST', ':path': '/echo' });
    post.end('a body without content-length');
    let head: Record<string, unknown> = {};
    post.on('response', (h) => {
      head = h;
    });
    let body = '';
    post.setEncoding('utf8');
    post.on('data', (c: string) => {
      body += c;
    });
    await new Promise((resolve) => post.on('end', resolve));
    client.close();
    assert.equal(head[':status'], 200);
    assert.equal(head['connection'], undefined, 'no connection header on an h2 response');
    assert.equal(JSON.parse(body).body, 'a body without content-length');

    const plain = await request(`http://127.0.0.1:${port}/`);
    assert.equal(plain.status, 200);

    if (hasCurlH2) {
      const { json, version } = curlVersion('--http2-prior-knowledge', `http://127.0.0.1:${port}/`);
      assert.equal(version, '2');
      assert.equal(JSON.parse(json).forwarded.host, `127.0.0.1:${port}`, ':authority is the Host');
    }
    // The router reports once a second and nothing logs it: poll, bounded.
    const want = hasCurlH2 ? 2 : 1;
    const deadline = Date.now() + 10_000;
    let seen = -1;
    while (Date.now() < deadline) {
      const doc = await getJson<{ router: { h2Requests: number } }>(
        `http://127.0.0.1:${statsPort}/`,
      );
      seen = doc.router.h2Requests;
      if (seen >= want) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(seen, want, 'h2 requests counted (the HTTP/1.1 one is not)');
    const metrics = (await request(`http://127.0.0.1:${statsPort}/metrics`)).body;
    assert.match(metrics, new RegExp(`router_h2_requests_total\\{[^}]*\\} ${want}\\b`));
    t.kill();
  });

  it('does not serve h2c to a peer outside --forwarded-allow-ips (HTTP/1.1 still works)', {
    skip: noCurl,
  }, async () => {
    const t = await startH2();
    const port = await t.port();
    const h2 = curl(
      '--interface',
      '127.0.0.2',
      '--http2-prior-knowledge',
      `http://127.0.0.1:${port}/`,
    );
    assert.notEqual(h2.status, 0, 'the preface from 127.0.0.2 is not HTTP/2 to the router');
    const h1 = curlVersion('--interface', '127.0.0.2', `http://127.0.0.1:${port}/`);
    assert.equal(h1.version, '1.1');
    t.kill();
  });

  it('with TLS, ALPN offers h2 and http/1.1', {
    skip: (!hasOpenssl && 'openssl is needed') || noCurl,
  }, async () => {
    const cert = makeCert(mkdtempSync(join(tmpdir(), 'tsgun-h2-')), 'h2');
    const t = await startH2('--certfile', cert.cert, '--keyfile', cert.key);
    const port = await t.port();
    const { json, version } = curlVersion('-k', '--http2', `https://127.0.0.1:${port}/`);
    assert.equal(version, '2');
    assert.equal(JSON.parse(json).forwarded.proto, 'https');
    assert.equal(curlVersion('-k', '--http1.1', `https://127.0.0.1:${port}/`).version, '1.1');
    t.kill();
  });

  it('gives an Express app HTTP/2 at the edge', { skip: noCurl }, async () => {
    const t = new Tsgun([
      fixture('frameworks/express.mjs'),
      ...['-b', '127.0.0.1:0', '--router', '--http2', '-w', '1'],
    ]);
    await waitForRouter(t, 1);
    const port = await t.port();
    const { json, version } = curlVersion('--http2-prior-knowledge', `http://127.0.0.1:${port}/`);
    assert.equal(version, '2');
    assert.equal(JSON.parse(json).form, 'express');
    t.kill();
  });

  it('on TERM sends GOAWAY and lets a stream in flight complete', async () => {
    const t = await startH2();
    const port = await t.port();
    const client = h2connect(`http://127.0.0.1:${port}`);
    client.on('error', () => {});
    const slow = h2Request(client, '/slow?ms=1500');
    await t.waitForLog((l) => l.msg === 'fixture: slow request started');
    t.signal('SIGTERM');
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).slow, true);
    assert.ok(answer.goaway(), 'the client got GOAWAY');
    client.destroy();
    t.kill();
  });

  it('floods get GOAWAY and leave the router running', async () => {
    const t = await startH2('--header-timeout', '1');
    const port = await t.port();
    const pid = await routerPid(t);

    // 10,000 streams at once: past maxConcurrentStreams they are refused, then the session ends.
    const many: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) many.push(frame(HEADERS, 0x05, 2 * i + 1, GET_ROOT));
    const streams = await flood(port, Buffer.concat(many));
    assert.ok(streams.goaway && streams.closed, JSON.stringify(streams));

    // Rapid reset (CVE-2023-44487): open and cancel streams in a loop.
    const resets: Buffer[] = [];
    const cancel = Buffer.from([0, 0, 0, 8]);
    for (let i = 0; i < 10_000; i++)
      resets.push(
        frame(HEADERS, 0x04, 2 * i + 1, GET_ROOT),
        frame(RST_STREAM, 0, 2 * i + 1, cancel),
      );
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

    assert.ok(isAlive(pid), 'the router survived');
    assert.equal((await request(`http://127.0.0.1:${port}/`)).status, 200);
    assert.equal(Number((await routerPid(t)) === pid), 1);
    t.kill();
  });

  it('h2load through the router', {
    skip: !hasH2load && 'h2load (apt nghttp2-client) is needed',
  }, async () => {
    const t = await startH2();
    const port = await t.port();
    assert.match(h2load(port), /2000 succeeded, 0 failed/);
    t.kill();
  });
});
