import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
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
import { floodsAreRefused } from '../helpers/h2-floods.js';
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

    await floodsAreRefused(port);

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
