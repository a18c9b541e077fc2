import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect as connectH2 } from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasOpenssl, makeCert } from '../helpers/certs.js';
import { h2Request } from '../helpers/h2-clients.js';
import { freePort, getJson, request, statsWith } from '../helpers/http.js';
import { tlsAfterHeader } from '../helpers/proxy-tls.js';
import { fixture, killAll, killGroup, Tsgun } from '../helpers/tsgun.js';

const spawned: ReturnType<typeof spawn>[] = [];
after(() => {
  for (const c of spawned) killGroup(c);
  killAll();
});

interface Sent {
  seen: Seen | null;
  raw: string;
  /** The client's own port. */
  local: number;
}

interface Seen {
  pid: number;
  address: string;
  port: number;
  family: string;
  xff: string | null;
}

/** One request after `header` (sent in pieces of `step` bytes), from `from`; the answer or null. */
function send(port: number, header: Buffer, opts: { from?: string; step?: number } = {}) {
  return new Promise<Sent>((resolve) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: opts.from ?? '127.0.0.1' });
    const whole = Buffer.concat([
      header,
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    ]);
    let local = 0;
    s.on('connect', async () => {
      local = s.localPort ?? 0;
      const step = opts.step ?? whole.length;
      for (let i = 0; i < whole.length && !s.destroyed; i += step) {
        s.write(whole.subarray(i, i + step));
        if (step < whole.length) await new Promise((r) => setTimeout(r, 20));
      }
    });
    let raw = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      raw += c;
    });
    s.on('error', () => {});
    s.on('close', () => resolve(answered(raw, local)));
  });
}

/** What came back on a connection: the app's answer when it was a 200. */
function answered(raw: string, local: number): Sent {
  const body = raw.split('\r\n\r\n')[1];
  return {
    seen: raw.startsWith('HTTP/1.1 200') && body ? (JSON.parse(body) as Seen) : null,
    raw,
    local,
  };
}

interface SentTls extends Sent {
  /** The TLS handshake finished. */
  secured: boolean;
}

/** One request over TLS after `header` on the raw connection (tlsAfterHeader says how). */
async function sendTls(
  port: number,
  header: Buffer,
  opts: { together: boolean; from?: string },
): Promise<SentTls> {
  // Refused (HAProxy not up yet): not served, as a closed connection is not.
  const made = await tlsAfterHeader(port, { header, ...opts }).catch(() => null);
  if (!made) return { seen: null, raw: '', local: 0, secured: false };
  const { tls, local } = made;
  let secured = false;
  tls.on('secureConnect', () => {
    secured = true;
    // Not end(): the router closes a half-closed TLS client before answering.
    tls.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  let raw = '';
  tls.setEncoding('latin1');
  tls.on('data', (c: string) => {
    raw += c;
  });
  // Not events.once: it rejects on the 'error' a closed handshake emits.
  await new Promise((closed) => tls.on('close', closed));
  return { ...answered(raw, local), secured };
}

const certDir = mkdtempSync(join(tmpdir(), 'tsgun-pp-tls-'));
let cert: { cert: string; key: string } | null = null;
const tlsArgs = () => {
  cert ??= makeCert(certDir, 'pp');
  return ['--certfile', cert.cert, '--keyfile', cert.key];
};
const noOpenssl = !hasOpenssl && 'openssl is not installed';

const v1 = (src: string, port: number) => Buffer.from(`PROXY TCP4 ${src} 10.0.0.1 ${port} 443\r\n`);
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const v2 = (src: number[], port: number) =>
  Buffer.from([...SIG, 0x21, 0x11, 0, 12, ...src, 10, 0, 0, 1, port >> 8, port & 0xff, 1, 187]);

async function start(...args: string[]): Promise<{ t: Tsgun; port: number }> {
  const t = new Tsgun([
    fixture('peer-app.mjs'),
    '-b',
    '127.0.0.1:0',
    '-w',
    '1',
    '--proxy-protocol',
    ...args,
  ]);
  if (args.includes('--router')) {
    await t.waitForLog((l) => l.role === 'router' && l.msg === 'router accepting');
    await t.waitForLog((l) => l.role === 'router' && l.msg === 'routing to 1 worker(s)');
  }
  await t.waitForReady(1);
  return { t, port: await t.port() };
}

interface Doc {
  worker: { proxyHeaderRefused: number }[];
  router: { proxyHeaderRefused: number } | null;
}

for (const mode of ['direct', 'router'] as const)
  describe(`--proxy-protocol, ${mode} mode`, () => {
    const extra = mode === 'router' ? ['--router'] : [];
    // Router mode: the router reads the header, and the app gets the client in X-Forwarded-For.
    const client = (s: Seen | null | undefined) => (mode === 'router' ? s?.xff : s?.address);

    it('v1 and v2 headers: the app sees the client address and port the header names', async () => {
      const { port } = await start(...extra);
      const a = await send(port, v1('203.0.113.7', 56324));
      assert.equal(client(a.seen), '203.0.113.7', a.raw);
      if (mode === 'direct') assert.deepEqual([a.seen?.port, a.seen?.family], [56324, 'IPv4']);
      const b = await send(port, v2([198, 51, 100, 9], 8080));
      assert.equal(client(b.seen), '198.51.100.9', b.raw);
      if (mode === 'direct') assert.equal(b.seen?.port, 8080);
      const c = await send(port, Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n'));
      assert.equal(client(c.seen), '2001:db8::1', c.raw);
      // UNKNOWN and v2 LOCAL keep the peer's own address.
      const unknown = await send(port, Buffer.from('PROXY UNKNOWN\r\n'));
      assert.equal(client(unknown.seen), '127.0.0.1', unknown.raw);
      const local = await send(port, Buffer.from([...SIG, 0x20, 0x00, 0, 0]));
      assert.equal(client(local.seen), '127.0.0.1', local.raw);
    });

    it('a missing, malformed, oversized or unfinished header closes that connection, never the process', async () => {
      const { t, port } = await start('--header-timeout', '1', ...extra);
      const pid = (await send(port, v1('203.0.113.7', 1000))).seen?.pid;
      const bad = [
        Buffer.alloc(0),
        Buffer.from('PROXY TCP4 1.2.3.4\r\n'),
        Buffer.from(`PROXY TCP4 ${'9'.repeat(200)}\r\n`),
        Buffer.from([...SIG, 0x21, 0x11, 0xff, 0xff]),
        Buffer.from([...SIG, 0x21, 0x11, 0, 4, 1, 2, 3, 4]),
      ];
      for (const header of bad) {
        const r = await send(port, header);
        assert.equal(r.seen, null, `served after ${JSON.stringify(header.toString('latin1'))}`);
        assert.equal(r.raw, '', 'closed without an answer');
      }
      // Trickled: the header never completes within --header-timeout 1.
      const slow = await send(port, Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 1 2'), {
        step: 1,
      });
      assert.equal(slow.seen, null);
      await t.waitForLog((l) => l.msg === 'closed a connection: bad PROXY protocol header');
      // The same process still serves.
      assert.equal((await send(port, v1('203.0.113.8', 1001))).seen?.pid, pid);
    });

    it('each refused header counts in --stats: the JSON and /metrics (0 before)', async () => {
      const statsPort = await freePort();
      const stats = `http://127.0.0.1:${statsPort}`;
      const { port } = await start('--stats', `127.0.0.1:${statsPort}`, ...extra);
      // In router mode the router reads the headers: its count moves, the worker's stays 0.
      const pick = (d: Doc) =>
        mode === 'router' ? d.router?.proxyHeaderRefused : d.worker[0]?.proxyHeaderRefused;
      const series =
        mode === 'router'
          ? /^tsgun_router_proxy_header_refused_total\{[^}]*\} (\d+)$/m
          : /^tsgun_worker_proxy_header_refused_total\{[^}]*worker="0"[^}]*\} (\d+)$/m;
      const metric = async () => series.exec((await request(`${stats}/metrics`)).body)?.[1];
      await statsWith<Doc>(stats, (d) => pick(d) === 0);
      assert.equal(await metric(), '0');
      const bad = [
        Buffer.alloc(0),
        Buffer.from('PROXY TCP4 1.2.3.4\r\n'),
        Buffer.from('PROXY X\r\n'),
      ];
      for (const header of bad) assert.equal((await send(port, header)).raw, '');
      await statsWith<Doc>(stats, (d) => pick(d) === bad.length);
      assert.equal(await metric(), String(bad.length));
      if (mode === 'router')
        assert.equal((await getJson<Doc>(stats)).worker[0]?.proxyHeaderRefused, 0);
    });

    for (const together of [true, false])
      it(`with --certfile, the header ${together ? 'in the ClientHello write' : 'in a write of its own'}: v1 and v2`, {
        skip: noOpenssl,
      }, async () => {
        // The worker's access log: the client in direct mode (behind the router, the router).
        const log = mode === 'direct' ? ['--access-logfile', '-'] : [];
        const { t, port } = await start(...tlsArgs(), ...log, ...extra);
        const a = await sendTls(port, v1('203.0.113.7', 56324), { together });
        assert.equal(client(a.seen), '203.0.113.7', a.raw);
        if (mode === 'direct') assert.deepEqual([a.seen?.port, a.seen?.family], [56324, 'IPv4']);
        const b = await sendTls(port, v2([198, 51, 100, 9], 8080), { together });
        assert.equal(client(b.seen), '198.51.100.9', b.raw);
        if (mode === 'direct') assert.equal(b.seen?.port, 8080);
        const v6 = Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n');
        const c = await sendTls(port, v6, { together });
        assert.equal(client(c.seen), '2001:db8::1', c.raw);
        if (mode === 'direct') {
          assert.deepEqual([c.seen?.port, c.seen?.family], [4000, 'IPv6']);
          t.signal('SIGTERM'); // flushes the buffered access log
          await t.exited;
          const hosts = t.stdoutText.split('\n').map((l) => l.split(' ')[0]);
          assert.deepEqual(hosts, ['203.0.113.7', '198.51.100.9', '2001:db8::1', '']);
        }
      });

    it('with --certfile: a bad header closes the connection without a handshake; a peer outside the list handshakes at once', {
      skip: noOpenssl,
    }, async () => {
      const { port } = await start(...tlsArgs(), '--proxy-allow-from', '127.0.0.1', ...extra);
      // No header: the ClientHello is not one. Then a malformed one before the ClientHello.
      for (const header of [Buffer.alloc(0), Buffer.from('PROXY TCP4 1.2.3.4\r\n')]) {
        const r = await sendTls(port, header, { together: true });
        assert.deepEqual([r.secured, r.raw], [false, ''], header.toString('latin1'));
      }
      const r = await sendTls(port, Buffer.alloc(0), { together: true, from: '127.0.0.2' });
      assert.equal(r.secured, true);
      assert.equal(client(r.seen), '127.0.0.2', r.raw);
      if (mode === 'direct') assert.equal(r.seen?.port, r.local);
      // The same worker still serves a good header.
      const good = await sendTls(port, v1('203.0.113.9', 4321), { together: true });
      assert.equal(client(good.seen), '203.0.113.9', good.raw);
    });

    it('with --certfile and --http2: an h2 session (ALPN h2) after the header', {
      skip: noOpenssl,
    }, async () => {
      const { port } = await start(...tlsArgs(), '--http2', ...extra);
      for (const together of [true, false]) {
        const { tls } = await tlsAfterHeader(port, {
          header: v2([198, 51, 100, 10], 9090),
          together,
          alpn: ['h2'],
        });
        const session = connectH2(`https://127.0.0.1:${port}`, { createConnection: () => tls });
        session.on('error', () => {});
        try {
          const r = await h2Request(session, '/');
          assert.equal(r.status, 200, r.body);
          const seen = JSON.parse(r.body) as Seen;
          assert.equal(client(seen), '198.51.100.10', r.body);
          if (mode === 'direct') assert.equal(seen.port, 9090);
          assert.equal(tls.alpnProtocol, 'h2');
        } finally {
          session.close();
        }
      }
    });

    it('a peer outside --proxy-allow-from is served as it is, with its own address', async () => {
      const { port } = await start('--proxy-allow-from', '127.0.0.1', ...extra);
      const r = await send(port, Buffer.alloc(0), { from: '127.0.0.2' });
      assert.equal(client(r.seen), '127.0.0.2', r.raw);
      // Its header is not believed: a bad request, not a forged address.
      const forged = await send(port, v1('203.0.113.7', 1), { from: '127.0.0.2' });
      assert.equal(forged.seen, null, forged.raw);
      assert.match(forged.raw, /^HTTP\/1\.1 400/);
    });
  });

const hasHaproxy = spawnSync('sh', ['-c', 'command -v haproxy']).status === 0;

describe('--proxy-protocol behind HAProxy', {
  skip: !hasHaproxy && 'haproxy is not installed (.ci/run installs it)',
}, () => {
  for (const [how, tls] of [
    ['send-proxy', false],
    ['send-proxy-v2', false],
    ['send-proxy', true],
    ['send-proxy-v2', true],
  ] as const)
    it(`HAProxy's ${how}${tls ? ', TLS passed through' : ''}: the app sees the client's address and port`, {
      skip: tls && noOpenssl,
    }, async () => {
      const { port } = await start(...(tls ? tlsArgs() : []));
      const front = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'tsgun-haproxy-'));
      writeFileSync(
        join(dir, 'haproxy.cfg'),
        `defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n` +
          `listen front\n  bind 127.0.0.1:${front}\n  server app 127.0.0.1:${port} ${how}\n`,
      );
      const h = spawn('haproxy', ['-f', join(dir, 'haproxy.cfg'), '-db'], {
        detached: true,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      spawned.push(h);
      // From 127.0.0.3, so the client is not HAProxy's own address (127.0.0.1).
      let r: Sent = { seen: null, raw: '', local: 0 };
      for (const deadline = Date.now() + 10_000; !r.seen && Date.now() < deadline; ) {
        const from = '127.0.0.3';
        r = tls
          ? await sendTls(front, Buffer.alloc(0), { together: false, from })
          : await send(front, Buffer.alloc(0), { from });
        if (!r.seen) await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(r.seen?.port, r.local, 'the client port');
      assert.equal(r.seen?.address, '127.0.0.3', r.raw);
    });
});
