import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { clientLoop, request } from '../helpers/http.js';
import { fixture, killAll, Tsgun, waitForRouter } from '../helpers/tsgun.js';

after(killAll);

const app = fixture('frameworks/socketio.mjs');
const sockets: Socket[] = [];
after(() => {
  for (const s of sockets) s.disconnect();
});

/**
 * A socket.io client in a loop: `echo` with an acknowledgement, back to back. withCredentials
 * gives the Node client a cookie jar, as a browser has: the router's sticky cookie comes back.
 */
function echoClient(url: string, transports: ('polling' | 'websocket')[]) {
  const socket = io(url, {
    transports,
    withCredentials: true,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  sockets.push(socket);
  const stats = {
    socket,
    acks: 0,
    /** Acks per worker pid within one connection: sticky means one pid per connection. */
    pidsPerConnection: [] as Set<number>[],
    connects: 0,
    connectErrors: [] as string[],
    /** Each failed handshake: since when it was under way, when it failed, and why. */
    failedHandshakes: [] as { since: number; at: number; status: unknown; body: unknown }[],
    /** When the handshake under way started (the client's creation, or its reconnect attempt). */
    handshakeSince: Date.now(),
    upgraded: false,
    stopped: false,
    done: Promise.resolve(),
  };
  socket.on('connect', () => {
    stats.connects++;
    stats.pidsPerConnection.push(new Set());
    socket.io.engine.once('upgrade', () => {
      stats.upgraded = true;
    });
    if (socket.io.engine.transport.name === 'websocket') stats.upgraded = true;
  });
  socket.io.on('reconnect_attempt', () => {
    stats.handshakeSince = Date.now();
  });
  socket.on('connect_error', (err) => {
    stats.connectErrors.push(err.message);
    // engine.io-client's TransportError: the failed request's response, if it had one.
    const response = (err as { context?: { status?: unknown; responseText?: unknown } }).context;
    stats.failedHandshakes.push({
      since: stats.handshakeSince,
      at: Date.now(),
      status: response?.status,
      body: response?.responseText,
    });
  });
  stats.done = (async () => {
    while (!stats.stopped) {
      if (!socket.connected) {
        await new Promise<void>((r) => socket.once('connect', () => r()));
        continue;
      }
      try {
        const reply = (await socket.timeout(5000).emitWithAck('echo', stats.acks)) as {
          pid: number;
        };
        stats.acks++;
        stats.pidsPerConnection.at(-1)?.add(reply.pid);
      } catch {
        // The connection went (its worker stopped): the client reconnects, the loop waits.
      }
    }
  })();
  return stats;
}

type EchoStats = ReturnType<typeof echoClient>;

/** When the router's list of workers changed (a worker joined or was withdrawn), in ms. */
function routerListChanges(t: Tsgun): number[] {
  return t.logs
    .filter((l) => l.role === 'router' && /^routing to \d+ worker/.test(l.msg))
    .map((l) => Date.parse(String(l['time'])));
}

async function acksFromEach(clients: EchoStats[], n: number): Promise<void> {
  const targets = clients.map((c) => c.acks + n);
  const deadline = Date.now() + 15_000;
  while (clients.some((c, i) => c.acks < targets[i]!)) {
    if (Date.now() > deadline) throw new Error(`acks: ${clients.map((c) => c.acks).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * --router --sticky cookie -w 2 and 6 echo clients: half upgrade from polling to websocket
 * (socket.io's default), half stay on long-polling.
 */
async function stickyWithClients() {
  const t = new Tsgun([app, '-b', '127.0.0.1:0', '--router', '--sticky', 'cookie', '-w', '2']);
  await waitForRouter(t, 2);
  const url = await t.url();
  const clients = [
    ...Array.from({ length: 3 }, () => echoClient(url, ['polling', 'websocket'])),
    ...Array.from({ length: 3 }, () => echoClient(url, ['polling'])),
  ];
  return { t, url, clients };
}

/** The clients stop, then tsgun stops gracefully (exit code 0). */
async function stopAll(t: Tsgun, clients: EchoStats[]): Promise<void> {
  for (const c of clients) {
    c.stopped = true;
    c.socket.disconnect();
  }
  await Promise.all(clients.map((c) => c.done));
  t.signal('SIGTERM');
  assert.equal((await t.exited).code, 0);
}

describe('socket.io behind --router --sticky cookie -w 2', () => {
  it('polling and websocket sessions stay on one worker, survive 3 HUPs under load (0 failed requests), stop gracefully', async () => {
    const { t, url, clients } = await stickyWithClients();
    await acksFromEach(clients, 5);
    const workers = t.liveWorkerPids();
    const served = new Set(clients.flatMap((c) => [...c.pidsPerConnection[0]!]));
    assert.ok(
      [...served].every((pid) => workers.includes(pid)),
      'an ack came from no worker',
    );
    assert.equal(served.size, 2, 'the sessions did not spread over both workers');
    for (const c of clients.slice(0, 3)) assert.ok(c.upgraded, 'no websocket upgrade');

    const load = clientLoop(url, { concurrency: 4 });
    for (let i = 0; i < 3; i++) await t.reload(20_000);
    // Each client reconnected to the new workers (the old ones closed their connections on
    // SIGTERM) and its session works there.
    await waitForRouter(t, 2);
    await acksFromEach(clients, 5);
    const stats = await load.stop();
    assert.equal(stats.failed, 0, `failed requests: ${stats.errors.slice(0, 5).join(', ')}`);
    assert.ok(stats.ok > 50, `too few requests to mean anything: ${stats.ok}`);
    // A handshake is several requests. With HUPs back to back, a client reconnecting at the end
    // of one reload can only reach workers that the next reload replaces, and one replaced between
    // two requests of its handshake fails it ('Session ID unknown' from the next worker): the
    // client tries again, as socket.io does. Any other failed handshake is a failure.
    const changes = routerListChanges(t);
    for (const c of clients) {
      for (const h of c.failedHandshakes) {
        assert.deepEqual(
          [h.status, String(h.body)],
          [400, '{"code":1,"message":"Session ID unknown"}'],
        );
        assert.ok(
          changes.some((at) => at >= h.since && at <= h.at),
          `a handshake failed while the router's workers stayed the same: ${JSON.stringify(h)}`,
        );
      }
      assert.ok(c.connects >= 2, 'the client never had to reconnect: were the workers replaced?');
      for (const pids of c.pidsPerConnection)
        assert.ok(pids.size <= 1, `one connection was answered by workers ${[...pids]}`);
    }
    await stopAll(t, clients);
    // Graceful: all 8 workers (2, then 2 per HUP) exited by themselves with 0, none killed.
    const exits = t.logs.filter((l) => l.msg === 'worker exited');
    assert.equal(exits.length, 8, JSON.stringify(exits));
    for (const e of exits) assert.deepEqual([e['code'], e['signal']], [0, null]);
  });

  it('a reload moves each session once, to a new worker: no handshake fails', async () => {
    const { t, clients } = await stickyWithClients();
    await acksFromEach(clients, 3);
    const reloads = 3;
    for (let i = 0; i < reloads; i++) {
      await t.reload(20_000);
      // Every old worker has exited: each client works again on a worker of this generation.
      await acksFromEach(clients, 3);
    }
    for (const c of clients) {
      assert.deepEqual(c.connectErrors, [], 'a handshake failed');
      // A session placed on a worker the reload was about to replace would move twice.
      assert.equal(c.connects, 1 + reloads, 'a session moved more than once in one reload');
    }
    await stopAll(t, clients);
  });

  it('without --sticky, long-polling sessions break across 2 workers (what the cookie prevents)', async () => {
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '--router', '-w', '2']);
    await waitForRouter(t, 2);
    const url = await t.url();
    const clients = Array.from({ length: 3 }, () => echoClient(url, ['polling']));
    const deadline = Date.now() + 10_000;
    const broken = () => clients.some((c) => c.connects > 1 || c.connectErrors.length > 0);
    while (!broken() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(broken(), 'polling sessions worked across workers without stickiness');
    for (const c of clients) {
      c.stopped = true;
      c.socket.disconnect();
    }
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
  });

  it("engine.io's own cookie (cookie: true) and the router's tsgun_worker cookie are both set", async () => {
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '--router', '--sticky', 'cookie', '-w', '2'], {
      env: { FIXTURE_IO_COOKIE: '1' },
    });
    await waitForRouter(t, 2);
    const reply = await request(`${await t.url()}/socket.io/?EIO=4&transport=polling`);
    assert.equal(reply.status, 200, reply.body);
    const cookies = (reply.headers['set-cookie'] ?? []) as string[];
    assert.ok(
      cookies.some((c) => c.startsWith('io=')),
      `no io cookie: ${cookies}`,
    );
    assert.ok(
      cookies.some((c) => /^tsgun_worker=\d+;/.test(c)),
      `no tsgun_worker cookie: ${cookies}`,
    );
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
    assert.ok(
      !t.logs.some((l) => l['notice'] !== undefined),
      'warned although sessions are sticky',
    );
  });
});

describe('socket.io with -w 2 and nothing sticky', () => {
  it('warns once, naming --router --sticky cookie', async () => {
    const t = new Tsgun([app, '-b', '127.0.0.1:0', '-w', '2']);
    await t.waitForReady(2);
    const url = await t.url();
    for (let i = 0; i < 6; i++) {
      const reply = await request(`${url}/socket.io/?EIO=4&transport=polling`);
      assert.equal(reply.status, 200, reply.body);
    }
    const warned = await t.waitForLog((l) => l['notice'] === 'socket-io-polling');
    assert.equal(warned.level, 40);
    assert.match(
      warned.msg,
      /^socket\.io long-polling with several workers and no sticky sessions: every request of a session must reach the worker that holds it, .*'Session ID unknown'\. Run with --router --sticky cookie /,
    );
    for (let i = 0; i < 4; i++) await request(`${url}/socket.io/?EIO=4&transport=polling`);
    // Both workers saw a handshake by now (6 + 4 connections spread by the kernel). The master
    // reads a worker's channel to its end before the worker is reaped, so once tsgun has stopped,
    // every notice the replies sent has been handled: a second line would be in the log.
    t.signal('SIGTERM');
    assert.equal((await t.exited).code, 0);
    assert.equal(t.logs.filter((l) => l['notice'] !== undefined).length, 1);
  });
});
