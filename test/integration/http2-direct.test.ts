import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
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
import { freePort, request, statsWith } from '../helpers/http.js';
import {
  fixture,
  isAlive,
  killAll,
  plainLines,
  runTsgun,
  Tsgun,
  waitForRouter,
} from '../helpers/tsgun.js';

after(killAll);

const noCurl = !hasCurlH2 && 'curl with HTTP/2 is needed';
const TRUST = ['--forwarded-allow-ips', '127.0.0.1'];

/** tsgun in direct mode with --http2 and one worker, ready. */
async function startDirect(app: string, ...args: string[]): Promise<Tsgun> {
  const t = new Tsgun([fixture(app), '-b', '127.0.0.1:0', '--http2', '-w', '1', ...TRUST, ...args]);
  await t.waitForReady(1);
  return t;
}

describe('HTTP/2 in direct mode (no router)', () => {
  it('serves h2c prior knowledge to an allowed peer and HTTP/1.1 on the same port, and counts h2 requests', async () => {
    const statsPort = await freePort();
    const t = await startDirect('app.mjs', '--stats', `127.0.0.1:${statsPort}`);
    const port = await t.port();
    const client = h2connect(`http://127.0.0.1:${port}`);
    const post = await h2Request(client, '/echo', 'a body without content-length');
    client.close();
    assert.equal(post.status, 200);
    assert.equal(JSON.parse(post.body).body, 'a body without content-length');

    const plain = await request(`http://127.0.0.1:${port}/`);
    assert.equal(plain.status, 200);

    if (hasCurlH2) {
      const { json, version } = curlVersion('--http2-prior-knowledge', `http://127.0.0.1:${port}/`);
      assert.equal(version, '2');
      assert.equal(typeof JSON.parse(json).pid, 'number', 'the answer is the app’s');
    }
    const want = hasCurlH2 ? 2 : 1;
    const doc = await statsWith<{ worker: { h2Requests: number; requests: number }[] }>(
      `http://127.0.0.1:${statsPort}/`,
      (d) => (d.worker[0]?.h2Requests ?? -1) >= want && (d.worker[0]?.requests ?? -1) >= want + 1,
    );
    assert.equal(doc.worker[0]?.h2Requests, want, 'h2 requests counted (the HTTP/1.1 one is not)');
    assert.equal(doc.worker[0]?.requests, want + 1, 'every request counted');
    t.kill();
  });

  it('does not serve h2c to a peer outside --forwarded-allow-ips (HTTP/1.1 still works)', {
    skip: noCurl,
  }, async () => {
    const t = await startDirect('app.mjs');
    const port = await t.port();
    const h2 = curl(
      '--interface',
      '127.0.0.2',
      '--http2-prior-knowledge',
      `http://127.0.0.1:${port}/`,
    );
    assert.notEqual(h2.status, 0, 'the preface from 127.0.0.2 is not HTTP/2 to the worker');
    assert.equal(
      curlVersion('--interface', '127.0.0.2', `http://127.0.0.1:${port}/`).version,
      '1.1',
    );
    t.kill();
  });

  for (const mode of ['direct', 'router'] as const)
    it(`with --proxy-protocol, h2c is for the client the PROXY header names, not the balancer's address (${mode} mode)`, async () => {
      const t = new Tsgun([
        fixture('peer-app.mjs'),
        '-b',
        '127.0.0.1:0',
        '--http2',
        '-w',
        '1',
        '--proxy-protocol',
        '--forwarded-allow-ips',
        '203.0.113.0/24',
        ...(mode === 'router' ? ['--router'] : []),
      ]);
      // In router mode the router must also have its worker list (else a 503, not the check).
      if (mode === 'router') await waitForRouter(t, 1);
      else await t.waitForReady(1);
      const port = await t.port();
      // The balancer (127.0.0.1, in --proxy-allow-from) sends the header, then the client's bytes.
      const behind = (client: string) =>
        h2connect(`http://127.0.0.1:${port}`, {
          createConnection: () => {
            const s = netConnect(port, '127.0.0.1');
            s.write(`PROXY TCP4 ${client} 127.0.0.1 56324 ${port}\r\n`);
            return s;
          },
        });
      const trusted = behind('203.0.113.7');
      const ok = await h2Request(trusted, '/');
      trusted.close();
      assert.equal(ok.status, 200, 'a client in --forwarded-allow-ips speaks h2c');
      const seen = JSON.parse(ok.body);
      assert.equal(mode === 'router' ? seen.xff : seen.address, '203.0.113.7');
      const other = behind('198.51.100.9');
      other.on('error', () => {});
      await assert.rejects(
        h2Request(other, '/'),
        'a client outside it does not, though 127.0.0.1 sent it',
      );
      other.destroy();
      t.kill();
    });

  it('with TLS, ALPN offers h2 and http/1.1 on the same port', {
    skip: (!hasOpenssl && 'openssl is needed') || noCurl,
  }, async () => {
    const cert = makeCert(mkdtempSync(join(tmpdir(), 'tsgun-h2d-')), 'h2d');
    const t = await startDirect('app.mjs', '--certfile', cert.cert, '--keyfile', cert.key);
    const port = await t.port();
    const h2 = curlVersion('-k', '--http2', `https://127.0.0.1:${port}/`);
    assert.equal(h2.version, '2');
    assert.equal(typeof JSON.parse(h2.json).pid, 'number');
    assert.equal(curlVersion('-k', '--http1.1', `https://127.0.0.1:${port}/`).version, '1.1');
    t.kill();
  });

  for (const [app, form] of [
    ['frameworks/koa.cjs', 'koa'],
    ['frameworks/hono.mjs', 'hono'],
    ['fetch-app.mjs', 'fetch'],
    ['server-export.mjs', 'server'],
  ] as const) {
    it(`serves ${app} over h2c`, { skip: noCurl }, async () => {
      const t = await startDirect(app);
      const port = await t.port();
      const { json, version } = curlVersion('--http2-prior-knowledge', `http://127.0.0.1:${port}/`);
      assert.equal(version, '2');
      assert.equal(JSON.parse(json).form, form);
      t.kill();
    });
  }

  for (const [app, form] of [
    ['frameworks/express.mjs', 'an Express app'],
    ['listen-forms/express.cjs', 'an http.Server serving an Express app'],
    ['frameworks/fastify.mjs', 'a Fastify instance'],
  ] as const) {
    it(`refuses ${app} at start, saying to use --router`, async () => {
      const r = await runTsgun([fixture(app), '-b', '127.0.0.1:0', '--http2', '-w', '2']);
      assert.equal(r.code, 4, 'an app load failure, not a crash loop');
      const lines = plainLines(r.stderr);
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0]!,
        new RegExp(`--http2: ${form} cannot run on .*--router.*TSGUN_ERR_APP_HTTP2`),
      );
    });
  }

  it('floods get GOAWAY and leave the worker running', async () => {
    const t = new Tsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--http2',
      '-w',
      '1',
      ...TRUST,
      '--header-timeout',
      '1',
    ]);
    const [ready] = await t.waitForReady(1);
    const pid = Number(ready?.['workerPid']);
    const port = await t.port();
    await floodsAreRefused(port);
    assert.ok(isAlive(pid), 'the worker survived');
    assert.equal((await request(`http://127.0.0.1:${port}/`)).status, 200);
    assert.equal(
      t.logs.filter((l) => l.msg === 'worker ready').length,
      1,
      'no worker was replaced',
    );
    t.kill();
  });

  it('on reload sends GOAWAY and lets a stream in flight complete', async () => {
    // The stream outlasts --keep-alive: the drain must not take its connection for an idle one.
    const t = await startDirect('app.mjs', '--keep-alive', '1');
    const port = await t.port();
    const client = h2connect(`http://127.0.0.1:${port}`);
    client.on('error', (err) => assert.fail(`h2 client error: ${err.message}`));
    const first = await h2Request(client, '/');
    assert.equal(first.status, 200);
    const slow = h2Request(client, '/slow?ms=2500');
    await t.waitForLog((l) => l.msg === 'fixture: slow request started');
    const reloaded = t.reload();
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).slow, true);
    assert.ok(answer.goaway(), 'the client got GOAWAY');
    await reloaded;
    client.close();
    // The new worker serves h2 too.
    if (hasCurlH2)
      assert.equal(
        curlVersion('--http2-prior-knowledge', `http://127.0.0.1:${port}/`).version,
        '2',
      );
    t.kill();
  });

  it('applies --limit-request-line and --request-timeout per stream', async () => {
    const t = await startDirect('app.mjs', '--limit-request-line', '100', '--request-timeout', '1');
    const port = await t.port();
    const client = h2connect(`http://127.0.0.1:${port}`);
    client.on('error', (err) => assert.fail(`h2 client error: ${err.message}`));
    const [long, late, fine] = await Promise.all([
      h2Request(client, `/${'x'.repeat(200)}`),
      h2Request(client, '/slow?ms=3000'),
      h2Request(client, '/'),
    ]);
    assert.equal(long.status, 414);
    assert.equal(late.status, 504);
    assert.equal(fine.status, 200, 'the other streams of the connection are served');
    client.close();
    t.kill();
  });

  it('at --worker-connections an h2 connection with a stream in flight keeps its slot', async () => {
    const t = await startDirect('app.mjs', '--worker-connections', '2');
    const port = await t.port();
    const client = h2connect(`http://127.0.0.1:${port}`);
    client.on('error', () => {});
    const slow = h2Request(client, '/slow?ms=1500');
    await t.waitForLog((l) => l.msg === 'fixture: slow request started');
    // An idle keep-alive HTTP/1.1 connection, then one more: one of the two first must give up
    // its slot, and it is the idle one, not the h2 connection whose stream is in the app.
    const held: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const socket = netConnect({ port, host: '127.0.0.1' });
      socket.on('error', () => {});
      held.push(socket);
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
    }
    const answer = await slow;
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).slow, true);
    for (const socket of held) socket.destroy();
    client.close();
    t.kill();
  });

  it('h2load against a direct-mode worker', {
    skip: !hasH2load && 'h2load (apt nghttp2-client) is needed',
  }, async () => {
    const t = await startDirect('app.mjs');
    const port = await t.port();
    assert.match(h2load(port), /2000 succeeded, 0 failed/);
    t.kill();
  });
});
