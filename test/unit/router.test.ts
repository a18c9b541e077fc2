import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTrusted, trustList } from '../../src/child/trust-list.js';
import { matchRoute, parseAllowIp, parseRoute } from '../../src/config/route.js';
import { ROUTER_ADDED_FIELDS } from '../../src/ipc/protocol.js';
import { receiveFromMaster } from '../../src/ipc/receive.js';
import { combineRouterStats, withEarlier } from '../../src/master/modes/router-process.js';
import {
  hashString,
  isRetryable,
  pickByIp,
  pickLeastOutstanding,
  pinnable,
  stickyCookieValue,
} from '../../src/router/balance.js';
import { forwardedHeaders } from '../../src/router/forwarded.js';
import { connectionTokens, requestHeaders, responseHeaders } from '../../src/router/headers.js';
import { NOT_STICKY, WorkerPool } from '../../src/router/pool.js';

const up = (id: number, inflight: number) => ({ id, inflight });

describe('least outstanding balancing', () => {
  it('picks the least loaded', () => {
    assert.equal(pickLeastOutstanding([up(1, 3), up(2, 1), up(3, 2)], 0), 1);
    assert.equal(pickLeastOutstanding([], 0), -1);
  });

  it('takes turns between equally loaded workers, from the cursor', () => {
    const idle = [up(1, 0), up(2, 0), up(3, 0)];
    assert.deepEqual(
      [0, 1, 2, 3].map((c) => pickLeastOutstanding(idle, c)),
      [0, 1, 2, 0],
    );
    assert.equal(pickLeastOutstanding([up(1, 1), up(2, 0), up(3, 0)], 0), 1);
  });
});

describe('sticky sessions', () => {
  it('maps one IP to one worker while the set is unchanged', () => {
    const pool = [up(1, 0), up(2, 5), up(3, 0)];
    const i = pickByIp(pool, '10.0.0.7');
    assert.equal(pickByIp(pool, '10.0.0.7'), i);
    assert.equal(i, hashString('10.0.0.7') % 3);
    assert.equal(pickByIp([], '10.0.0.7'), -1);
    const spread = new Set(Array.from({ length: 50 }, (_, n) => pickByIp(pool, `10.0.0.${n}`)));
    assert.equal(spread.size, 3, 'addresses spread over every worker');
  });

  it('reads the tsgun_worker cookie among others, and ignores a bad value', () => {
    assert.equal(stickyCookieValue('a=1; tsgun_worker=12; b=2'), 12);
    assert.equal(stickyCookieValue('tsgun_worker=abc'), null);
    assert.equal(stickyCookieValue('xtsgun_worker=3'), null);
    assert.equal(stickyCookieValue(undefined), null);
  });
});

describe('sticky sessions across a rolling reload', () => {
  const w = (id: number, stale: boolean) => ({ id, path: `/tmp/w${id}.sock`, stale });
  const cookie = (workerId: number | null) => ({ workerId, ip: null, pinned: true });

  it('pins new sessions to the workers no reload is replacing, while one is routable', () => {
    const fresh = { id: 3, stale: false };
    assert.deepEqual(pinnable([{ id: 2, stale: true }, fresh]), [fresh]);
    const stale = [
      { id: 1, stale: true },
      { id: 2, stale: true },
    ];
    assert.deepEqual(pinnable(stale), stale, 'all stale: any of them (nothing else can take it)');
  });

  it('the master says which upstreams are stale, in every list', () => {
    const list = (upstreams: unknown[]) =>
      receiveFromMaster({ tsgun: 1, type: 'upstreams', seq: 1, upstreams, timedOut: [] }).kind;
    assert.equal(list([w(2, true), w(3, false)]), 'ours');
    assert.equal(list([{ id: 2, path: '/tmp/w2.sock' }]), 'invalid');
    assert.equal(list([{ ...w(2, true), stale: 'yes' }]), 'invalid');
  });

  it('keeps a session on its stale worker, places new ones on fresh workers only', () => {
    const pool = new WorkerPool(1000);
    // HUP with -w 2: worker 3 (new generation) is ready, 2 is next to be replaced.
    pool.apply([w(2, true), w(3, false)]);
    assert.equal(pool.choose(cookie(2))?.id, 2, 'a session stays where it lives');
    for (let i = 0; i < 4; i++) {
      assert.equal(pool.choose(cookie(null))?.id, 3, 'a new session goes to the fresh worker');
      assert.equal(pool.choose(cookie(1))?.id, 3, 'so does one whose worker has left');
    }
    // Without a cookie to set, balancing is unchanged: both workers take requests.
    const ids = new Set(Array.from({ length: 4 }, () => pool.choose(NOT_STICKY)?.id));
    assert.deepEqual([...ids].sort(), [2, 3]);
    // Once the reload is over, every worker is fresh again.
    pool.apply([w(3, false), w(4, false)]);
    const spread = new Set(Array.from({ length: 4 }, () => pool.choose(cookie(null))?.id));
    assert.deepEqual([...spread].sort(), [3, 4]);
  });
});

describe('retry rule', () => {
  it('retries idempotent methods without a body only', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) assert.ok(isRetryable(m, {}), m);
    assert.ok(!isRetryable('POST', {}));
    assert.ok(!isRetryable('PATCH', {}));
    assert.ok(!isRetryable('PUT', { 'content-length': '5' }));
    assert.ok(isRetryable('PUT', { 'content-length': '0' }));
    assert.ok(!isRetryable('GET', { 'transfer-encoding': 'chunked' }));
  });
});

describe('X-Forwarded-*', () => {
  const trust = trustList(['127.0.0.1', '::1', '10.0.0.0/8']);

  it('trusts listed addresses, networks and IPv4-mapped IPv6 peers', () => {
    assert.ok(isTrusted(trust, '127.0.0.1'));
    assert.ok(isTrusted(trust, '::ffff:127.0.0.1'));
    assert.ok(isTrusted(trust, '10.20.30.40'));
    assert.ok(isTrusted(trust, '::1'));
    assert.ok(!isTrusted(trust, '192.168.1.1'));
    assert.ok(!isTrusted(trust, undefined));
    assert.ok(isTrusted(trustList(['*']), '203.0.113.9'));
  });

  it('extends a trusted peer headers and replaces an untrusted one', () => {
    const headers = {
      host: 'app.example',
      'x-forwarded-for': '203.0.113.9',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'www.example',
    };
    assert.deepEqual(
      forwardedHeaders({ peer: '::ffff:10.0.0.2', encrypted: false, headers, trusted: true }),
      { for: '203.0.113.9, 10.0.0.2', proto: 'https', host: 'www.example' },
    );
    assert.deepEqual(
      forwardedHeaders({ peer: '192.168.1.1', encrypted: true, headers, trusted: false }),
      { for: '192.168.1.1', proto: 'https', host: 'app.example' },
    );
    assert.deepEqual(
      forwardedHeaders({
        peer: '127.0.0.1',
        encrypted: false,
        headers: { host: 'h' },
        trusted: true,
      }),
      { for: '127.0.0.1', proto: 'http', host: 'h' },
    );
  });
});

describe('--route and --forwarded-allow-ips values', () => {
  it('parses PREFIX=URL and refuses what it cannot route', () => {
    assert.deepEqual(parseRoute('/legacy=http://127.0.0.1:9000'), {
      prefix: '/legacy',
      url: 'http://127.0.0.1:9000',
    });
    assert.throws(() => parseRoute('legacy=http://x'), /must start with "\/"/);
    assert.throws(() => parseRoute('/a=ftp://x'), /http:\/\/ or https:\/\//);
    assert.throws(() => parseRoute('/a=http://x/path'), /must be an origin/);
    assert.throws(() => parseRoute('/a'), /expected PREFIX=URL/);
  });

  it('matches the longest prefix at a segment boundary', () => {
    const routes = [parseRoute('/api=http://a:1'), parseRoute('/api/v2=http://b:2')];
    assert.equal(matchRoute(routes, '/api/v2/x')?.url, 'http://b:2');
    assert.equal(matchRoute(routes, '/api/x')?.url, 'http://a:1');
    assert.equal(matchRoute(routes, '/api?q=1')?.url, 'http://a:1');
    assert.equal(matchRoute(routes, '/api'), routes[0]);
    assert.equal(matchRoute(routes, '/apix'), null);
  });

  it('accepts *, addresses and networks', () => {
    assert.equal(parseAllowIp('*'), '*');
    assert.equal(parseAllowIp('10.0.0.0/8'), '10.0.0.0/8');
    assert.equal(parseAllowIp('::1'), '::1');
    assert.throws(() => parseAllowIp('10.0.0.0/33'), /CIDR/);
    assert.throws(() => parseAllowIp('localhost'), /CIDR/);
  });
});

describe('router header hygiene', () => {
  const fwd = { for: '203.0.113.9', proto: 'http', host: 'example.test' };
  it('lists the headers a Connection header names, ignoring close and keep-alive', () => {
    assert.deepEqual(
      [...(connectionTokens(' Close, X-Secret ,keep-alive,X-Other') ?? [])],
      ['x-secret', 'x-other'],
    );
    assert.equal(connectionTokens('close'), null);
    assert.equal(connectionTokens(undefined), null);
  });

  it('drops hop-by-hop headers and those Connection names; sets X-Forwarded-*', () => {
    const raw = [
      ...['Host', 'example.test', 'Connection', 'close, X-Secret', 'X-Secret', 's'],
      ...['Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Transfer-Encoding', 'chunked'],
      ...['Expect', '100-continue', 'X-Forwarded-For', '1.2.3.4', 'Accept', '*/*'],
    ];
    assert.deepEqual(requestHeaders(raw, 'close, X-Secret', fwd, false), [
      ...['Host', 'example.test', 'Accept', '*/*'],
      ...['x-forwarded-for', '203.0.113.9', 'x-forwarded-proto', 'http'],
      ...['x-forwarded-host', 'example.test'],
    ]);
  });

  it('adds exactly ROUTER_ADDED_FIELDS fields (the allowance workers give the router)', () => {
    const added = requestHeaders(['Host', 'h'], undefined, fwd, true).length / 2 - 1;
    assert.equal(added, ROUTER_ADDED_FIELDS);
  });

  it('keeps Forwarded and X-Real-IP from a trusted peer only', () => {
    const raw = ['Host', 'h', 'Forwarded', 'for=1.2.3.4', 'X-Real-IP', '1.2.3.4'];
    assert.deepEqual(requestHeaders(raw, undefined, fwd, false).slice(0, 2), ['Host', 'h']);
    assert.equal(requestHeaders(raw, undefined, fwd, false).length, 8);
    assert.deepEqual(requestHeaders(raw, undefined, fwd, true).slice(0, 6), raw);
  });

  it('drops hop-by-hop response headers and those the worker Connection header names', () => {
    const raw = [
      ...['Content-Type', 'text/plain', 'Connection', 'keep-alive, X-Hop', 'X-Hop', '1'],
      ...['Keep-Alive', 'timeout=5', 'Transfer-Encoding', 'chunked', 'Set-Cookie', 'a=1'],
      ...['Connection', 'X-Hop2', 'X-Hop2', '2'],
    ].map((v) => Buffer.from(v, 'latin1'));
    assert.deepEqual(responseHeaders(raw), ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1']);
  });
});

describe('--router-processes stats', () => {
  const snap = (pid: number, requests: number, inflight: number) => ({
    pid,
    state: 'ready' as const,
    startedAt: 1,
    restarts: 1,
    pending: 2,
    connections: 3,
    h2Requests: 4,
    proxyHeaderRefused: 5,
    upstreams: [{ name: 'worker 1', requests, errors: 0, retries: 1, inflight }],
    queue: { waiting: 1, highWater: pid, shedLimit: 2, shedTimeout: 3 },
  });
  it('adds up the routers, keeping the first one pid and state', () => {
    assert.equal(combineRouterStats([null, null]), null);
    const one = snap(10, 5, 1);
    assert.equal(combineRouterStats([one, null]), one);
    assert.deepEqual(combineRouterStats([one, snap(11, 7, 2)]), {
      ...one,
      restarts: 2,
      pending: 4,
      connections: 6,
      h2Requests: 8,
      proxyHeaderRefused: 10,
      upstreams: [{ name: 'worker 1', requests: 12, errors: 0, retries: 2, inflight: 3 }],
      // Waiting and shed add up; the high-water mark is the larger one.
      queue: { waiting: 2, highWater: 11, shedLimit: 4, shedTimeout: 6 },
    });
  });
});

describe('router counters across a router restart', () => {
  const u = (name: string, requests: number, errors = 0, retries = 0, inflight = 0) => ({
    name,
    requests,
    errors,
    retries,
    inflight,
  });
  const earlier = new Map([
    ['worker 1', u('worker 1', 10, 1, 2)],
    ['route /api', u('route /api', 3)],
  ]);
  it('adds what earlier routers counted to what the running one reports', () => {
    assert.deepEqual(
      withEarlier([u('worker 1', 5, 0, 1, 2), u('route /api', 1), u('worker 3', 7)], earlier, true),
      [u('worker 1', 15, 1, 3, 2), u('route /api', 4), u('worker 3', 7)],
    );
    assert.deepEqual(withEarlier([u('worker 1', 1)], new Map(), true), [u('worker 1', 1)]);
  });
  it('shows the earlier counts alone until the new router reports', () => {
    assert.deepEqual(withEarlier([], earlier, false), [...earlier.values()]);
    // A router that routes to nothing yet has reported all the same.
    assert.deepEqual(withEarlier([], earlier, true), []);
  });
  it('adds up several routers, one of them between an exit and its restart', () => {
    const live = {
      pid: 11,
      state: 'ready' as const,
      startedAt: 1,
      restarts: 0,
      pending: 1,
      connections: 2,
      h2Requests: 0,
      proxyHeaderRefused: 0,
      upstreams: [u('worker 1', 5)],
      queue: { waiting: 0, highWater: 0, shedLimit: 0, shedTimeout: 0 },
    };
    const down = { ...live, pid: null, state: 'booting' as const, restarts: 1, pending: 0 };
    assert.deepEqual(combineRouterStats([{ ...down, connections: 0 }, live]), {
      ...live,
      restarts: 1,
      upstreams: [u('worker 1', 10)],
    });
  });
});
