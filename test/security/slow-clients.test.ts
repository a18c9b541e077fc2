import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { freePort, request } from '../helpers/http.js';
import { killAll, startApp, type Tsgun, waitForRouter } from '../helpers/tsgun.js';
import { MODES, type Mode } from './cases.js';

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

/** Everything the server sends until it closes the connection, and how long that took. */
function untilClosed(socket: Socket): Promise<string> {
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (c: string) => {
    data += c;
  });
  return new Promise((resolve) => socket.on('close', () => resolve(data)));
}

/** Milliseconds since `begin` (performance.now()). */
const since = (begin: number) => performance.now() - begin;

/**
 * tsgun -w 1 with the fixture app in `mode`, ready to take requests: in router mode the limits
 * are the router's (it holds the client connections), the same settings and the same bounds.
 */
async function start(mode: Mode, ...args: string[]): Promise<Tsgun> {
  const t = startApp('-w', '1', ...args, ...(mode === 'router' ? ['--router'] : []));
  if (mode === 'router') await waitForRouter(t, 1);
  else await t.waitForReady(1);
  return t;
}

/** The process that holds client connections in `mode`: a worker, or the router. */
const holder = (mode: Mode) => (mode === 'router' ? 'router' : 'worker');

function slowStarted(t: Tsgun, n: number): Promise<unknown> {
  let seen = 0;
  return t.waitForLog((l) => l.msg === 'fixture: slow request started' && ++seen === n);
}

for (const mode of MODES) {
  describe(`slow and idle clients, ${mode} mode`, () => {
    it('60 slowloris + 60 idle keep-alive on --worker-connections 50: a normal client is answered within 1 s, in-flight requests finish', async () => {
      const t = await start(mode, '--worker-connections', '50');
      const port = await t.port();
      const url = await t.url();
      const started = slowStarted(t, 3);
      const inFlight = [1, 2, 3].map(() => request(`${url}/slow?ms=3000`));
      await started;
      const idle = await Promise.all(Array.from({ length: 60 }, () => idleKeepAlive(port)));
      const loris = await Promise.all(Array.from({ length: 60 }, () => slowloris(port)));
      const begin = performance.now();
      const reply = await request(`${url}/`);
      const ms = since(begin);
      assert.equal(reply.status, 200);
      assert.ok(ms < 1000, `a normal client waited ${ms.toFixed(0)} ms`);
      for (const r of await Promise.all(inFlight)) assert.equal(r.status, 200);
      // The router holds any number of client connections: only a worker's slots run out.
      if (mode === 'direct') {
        const warnings = t.logs.filter((l) =>
          String(l.msg).startsWith('worker-connections reached'),
        );
        assert.equal(warnings.length, 1, 'slot exhaustion is warned once per incident');
        assert.equal(warnings[0]!.level, 40);
      }
      for (const l of loris) {
        l.stop();
        l.socket.destroy();
      }
      for (const s of idle) s.destroy();
      t.kill();
    });

    it('--header-timeout: headers that never finish get 408, and so does a connection that sends nothing, within the limit plus the sweeps', async () => {
      const t = await start(mode, '--header-timeout', '1');
      const port = await t.port();
      const begin = performance.now();
      const l = await slowloris(port);
      const silent = await connected(port);
      const [answer, nothing] = await Promise.all([untilClosed(l.socket), untilClosed(silent)]);
      const ms = since(begin);
      l.stop();
      assert.match(answer, /^HTTP\/1\.1 408/);
      // Node answers 408 too when nothing came at all; tsgun's own sweep closes it if Node did not.
      assert.match(nothing, /^(HTTP\/1\.1 408 .*)?$/s);
      // 1 s, then up to two once-a-second sweeps (or Node's check), on a loaded machine.
      assert.ok(ms < 4000, `held ${ms.toFixed(0)} ms`);
      t.kill();
    });

    it('--client-body-timeout: a body that stops arriving gets 408', async () => {
      const t = await start(mode, '--client-body-timeout', '1');
      const begin = performance.now();
      const socket = await connected(await t.port());
      const closed = untilClosed(socket);
      socket.write(
        'POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n0123456789',
      );
      assert.match(await closed, /^HTTP\/1\.1 408/);
      const ms = since(begin);
      assert.ok(ms < 4000, `held ${ms.toFixed(0)} ms`);
      t.kill();
    });

    it('--send-timeout: a client that takes no byte of its response is disconnected', async () => {
      const t = await start(mode, '--send-timeout', '1', '--log-level', 'debug');
      const socket = await connected(await t.port());
      socket.on('error', () => {});
      const begin = performance.now();
      socket.write('GET /big?mb=64 HTTP/1.1\r\nHost: localhost\r\n\r\n');
      socket.pause();
      await t.waitForLog(
        (l) => l.role === holder(mode) && l.msg === 'closing a slow client (send timeout)',
      );
      const ms = since(begin);
      let bytes = 0;
      socket.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      socket.resume();
      await new Promise((resolve) => socket.on('close', resolve));
      assert.ok(bytes < 64 * 1024 * 1024, `the whole ${bytes} bytes were sent`);
      assert.ok(ms < 4000, `held ${ms.toFixed(0)} ms`);
      t.kill();
    });

    it('--limit-request-field-size above 16 KiB: Node accepts the field, the limit decides', async () => {
      const t = await start(mode, '--limit-request-field-size', '40000');
      const url = await t.url();
      const ok = await request(url, { headers: { 'x-big': 'a'.repeat(30_000) } });
      assert.equal(ok.status, 200);
      const over = await request(url, { headers: { 'x-big': 'a'.repeat(45_000) } });
      assert.equal(over.status, 431);
      t.kill();
    });
  });
}

describe('slow clients on the --stats port', () => {
  it('--header-timeout applies there too: a slowloris gets 408, a silent connection is closed', async () => {
    const statsPort = await freePort();
    const t = await start('direct', '--header-timeout', '1', '--stats', `127.0.0.1:${statsPort}`);
    const begin = performance.now();
    const l = await slowloris(statsPort);
    const silent = await connected(statsPort);
    const [answer] = await Promise.all([untilClosed(l.socket), untilClosed(silent)]);
    const ms = since(begin);
    l.stop();
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(ms < 4000, `held ${ms.toFixed(0)} ms`);
    t.kill();
  });
});
