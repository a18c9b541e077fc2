import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { request } from '../helpers/http.js';
import { killAll, startApp, type Tsgun } from '../helpers/tsgun.js';

after(killAll);

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

/** A keep-alive connection that got its response and now only holds a slot. */
async function idleKeepAlive(port: number): Promise<Socket> {
  const socket = await connected(port);
  socket.on('error', () => {});
  let data = '';
  socket.setEncoding('utf8');
  const answered = new Promise<void>((resolve) => {
    socket.on('data', (c: string) => {
      data += c;
      if (/\r\n\r\n\{.*\}$/s.test(data)) resolve();
    });
    socket.on('close', () => resolve());
  });
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await answered;
  return socket;
}

/** Slowloris: a request line, then one header line a second, never the blank line. */
async function slowloris(port: number): Promise<{ socket: Socket; stop: () => void }> {
  const socket = await connected(port);
  socket.on('error', () => {});
  socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(`X-Slow-${Date.now()}: 1\r\n`);
  }, 1000);
  return { socket, stop: () => clearInterval(timer) };
}

/** Everything the server sends until it closes the connection. */
function untilClosed(socket: Socket): Promise<string> {
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => {
    data += c;
  });
  return new Promise((resolve) => socket.on('close', () => resolve(data)));
}

function slowStarted(t: Tsgun, n: number): Promise<unknown> {
  let seen = 0;
  return t.waitForLog((l) => l.msg === 'fixture: slow request started' && ++seen === n);
}

describe('slow and idle clients', () => {
  it('60 slowloris + 60 idle keep-alive on --worker-connections 50: a normal client is answered within 1 s, in-flight requests finish', async () => {
    const t = startApp('-w', '1', '--worker-connections', '50');
    await t.waitForReady(1);
    const port = await t.port();
    const url = await t.url();
    const started = slowStarted(t, 3);
    const inFlight = [1, 2, 3].map(() => request(`${url}/slow?ms=3000`));
    await started;
    const idle = await Promise.all(Array.from({ length: 60 }, () => idleKeepAlive(port)));
    const loris = await Promise.all(Array.from({ length: 60 }, () => slowloris(port)));
    const begin = performance.now();
    const reply = await request(`${url}/`);
    const ms = performance.now() - begin;
    assert.equal(reply.status, 200);
    assert.ok(ms < 1000, `a normal client waited ${ms.toFixed(0)} ms`);
    for (const r of await Promise.all(inFlight)) assert.equal(r.status, 200);
    const warnings = t.logs.filter((l) => String(l.msg).startsWith('worker-connections reached'));
    assert.equal(warnings.length, 1, 'slot exhaustion is warned once per incident');
    assert.equal(warnings[0]!.level, 40);
    for (const l of loris) {
      l.stop();
      l.socket.destroy();
    }
    for (const s of idle) s.destroy();
    t.kill();
  });

  it('--header-timeout: headers that never finish get 408, and so does a connection that sends nothing', async () => {
    const t = startApp('-w', '1', '--header-timeout', '1');
    await t.waitForReady(1);
    const port = await t.port();
    const l = await slowloris(port);
    const silent = await connected(port);
    const [answer, nothing] = await Promise.all([untilClosed(l.socket), untilClosed(silent)]);
    l.stop();
    assert.match(answer, /^HTTP\/1\.1 408/);
    // Node answers 408 too when nothing came at all; tsgun's own sweep closes it if Node did not.
    assert.match(nothing, /^(HTTP\/1\.1 408 .*)?$/s);
    t.kill();
  });

  it('--client-body-timeout: a body that stops arriving gets 408', async () => {
    const t = startApp('-w', '1', '--client-body-timeout', '1');
    await t.waitForReady(1);
    const socket = await connected(await t.port());
    const closed = untilClosed(socket);
    socket.write('POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789');
    assert.match(await closed, /^HTTP\/1\.1 408/);
    t.kill();
  });

  it('--send-timeout: a client that takes no byte of its response is disconnected', async () => {
    const t = startApp('-w', '1', '--send-timeout', '1', '--log-level', 'debug');
    await t.waitForReady(1);
    const socket = await connected(await t.port());
    socket.on('error', () => {});
    socket.write('GET /big?mb=64 HTTP/1.1\r\nHost: localhost\r\n\r\n');
    socket.pause();
    await t.waitForLog((l) => l.msg === 'closing a slow client (send timeout)');
    let bytes = 0;
    socket.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    socket.resume();
    await new Promise((resolve) => socket.on('close', resolve));
    assert.ok(bytes < 64 * 1024 * 1024, `the whole ${bytes} bytes were sent`);
    t.kill();
  });

  it('--limit-request-field-size above 16 KiB: Node accepts the field, the limit decides', async () => {
    const t = startApp('-w', '1', '--limit-request-field-size', '40000');
    await t.waitForReady(1);
    const url = await t.url();
    const ok = await request(url, { headers: { 'x-big': 'a'.repeat(30_000) } });
    assert.equal(ok.status, 200);
    const over = await request(url, { headers: { 'x-big': 'a'.repeat(45_000) } });
    assert.equal(over.status, 431);
    t.kill();
  });
});
