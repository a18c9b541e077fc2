import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { rawRequest, webSocketHandshake } from '../helpers/http.js';
import { fixture, killAll, startRouter, Tsgun } from '../helpers/tsgun.js';

after(killAll);

/** The head and the JSON body of a raw HTTP/1.1 answer. */
function parse(data: string): { status: number; head: string; body: unknown } {
  const end = data.indexOf('\r\n\r\n');
  const head = data.slice(0, end);
  const text = data.slice(end + 4);
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
    head,
    body: text.startsWith('{') ? JSON.parse(text) : text,
  };
}

interface Seen {
  headers: Record<string, string>;
}

const fields = (n: number) =>
  Array.from({ length: n }, (_, i) => `X-Field-${i}: ${i}\r\n`).join('');

describe('router header hygiene', () => {
  it('drops what Connection names (both ways) and untrusted Forwarded / X-Real-IP; answers CONNECT', async () => {
    // 127.0.0.1 is not trusted here: the client is any internet peer.
    const t = await startRouter(1, '--forwarded-allow-ips', '10.0.0.0/8');
    const port = await t.port();
    const reply = parse(
      (
        await rawRequest(
          port,
          'GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close, X-Secret\r\nX-Secret: s\r\n' +
            'Forwarded: for=1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\nX-Kept: k\r\n\r\n',
        )
      ).data,
    );
    assert.equal(reply.status, 200);
    const seen = (reply.body as Seen).headers;
    assert.equal(seen['x-secret'], undefined, 'a header the client named in Connection');
    assert.equal(seen['forwarded'], undefined, 'Forwarded from an untrusted peer');
    assert.equal(seen['x-real-ip'], undefined, 'X-Real-IP from an untrusted peer');
    assert.equal(seen['x-kept'], 'k');
    assert.equal(seen['x-forwarded-for'], '127.0.0.1');
    assert.doesNotMatch(reply.head, /x-hop/i, 'a header the worker named in Connection');
    assert.match(reply.head, /x-kept: end to end/i);
    assert.match(reply.head, /connection: close/i);

    const tunnel = await rawRequest(port, 'CONNECT example.test:443 HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(tunnel.data, /^HTTP\/1\.1 501 /, 'CONNECT gets a status, not a silent close');
    t.kill();
  });

  it("the router's X-Forwarded-* do not count against --limit-request-fields", async () => {
    const t = await startRouter(1, '--limit-request-fields', '6');
    const port = await t.port();
    // Host, Connection and 4 more: exactly the limit, plus the 3 fields the router adds.
    const atLimit = await rawRequest(
      port,
      `GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${fields(4)}\r\n`,
    );
    assert.equal(parse(atLimit.data).status, 200, atLimit.data);
    const over = await rawRequest(
      port,
      `GET /headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${fields(5)}\r\n`,
    );
    assert.equal(parse(over.data).status, 431, over.data);
    t.kill();
  });
});

describe('router: every Upgrade answered', () => {
  it('serves a non-websocket Upgrade (h2c) as plain HTTP/1.1; refuses one with a body', async () => {
    const t = await startRouter(1);
    const port = await t.port();
    const h2c = await rawRequest(
      port,
      'GET /headers HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n' +
        'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    const reply = parse(h2c.data);
    assert.equal(reply.status, 200, h2c.data);
    const seen = (reply.body as Seen).headers;
    assert.equal(seen['upgrade'], undefined);
    assert.equal(seen['http2-settings'], undefined, 'named in Connection');
    assert.match(reply.head, /connection: close/i);

    const withBody = await rawRequest(
      port,
      'POST /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n' +
        'Content-Length: 3\r\n\r\nx=1',
    );
    assert.match(withBody.data, /^HTTP\/1\.1 501 /);
    t.kill();
  });

  it('a WebSocket upgrade that finds no ready worker waits for one', async () => {
    const t = new Tsgun([fixture('ws-app.mjs'), '-b', '127.0.0.1:0', '--router', '-w', '1']);
    await t.waitForReady(1);
    await t.waitForLog((l) => l.role === 'router' && l.msg === 'routing to 1 worker(s)');
    await t.waitForLog((l) => l.role === 'router' && l.msg === 'router accepting');
    const port = await t.port();
    const [victim] = t.liveWorkerPids();
    const mark = t.logs.length;
    process.kill(victim!, 'SIGKILL');
    await t.waitForLog(
      (l) => l.role === 'router' && l.msg === 'routing to 0 worker(s)',
      10_000,
      mark,
    );
    const answer = await webSocketHandshake(port, false);
    assert.match(answer, /^HTTP\/1\.1 101 /, 'upgraded once the respawned worker was ready');
    assert.doesNotMatch(answer, new RegExp(`x-worker-pid: ${victim}\\b`, 'i'));
    t.kill();
  });

  it('a WebSocket upgrade with no ready worker gets 503 after --proxy-timeout, not at once', async () => {
    // The worker never says ready (--wait-ready): the router has no worker to send anything to.
    const t = new Tsgun(
      [
        fixture('wait-ready.mjs'),
        '-b',
        '127.0.0.1:0',
        '--router',
        '-w',
        '1',
        '--wait-ready',
        '--ready-timeout',
        '60',
        '--proxy-timeout',
        '1',
      ],
      { env: { FIXTURE_NEVER_READY: '1' } },
    );
    await t.waitForLog((l) => l.msg === 'router ready');
    const started = Date.now();
    const answer = await webSocketHandshake(await t.port(), false);
    const waited = Date.now() - started;
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.ok(waited >= 900, `answered after ${waited} ms, not after --proxy-timeout`);
    t.kill();
  });
});
