import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type IndexedWorker, pickWorkerIndex } from '../../src/master/decisions/plan.js';
import {
  decideListen,
  type ListenRequest,
  type ListenState,
  parseListenArgs,
} from '../../src/worker/listen-plan.js';

describe('parseListenArgs reads listen() the way Node does', () => {
  const cb = () => {};
  const cases: [string, unknown[], ListenRequest, boolean][] = [
    ['listen()', [], { kind: 'tcp', host: null, port: 0 }, false],
    ['listen(cb)', [cb], { kind: 'tcp', host: null, port: 0 }, true],
    ['listen(3000)', [3000], { kind: 'tcp', host: null, port: 3000 }, false],
    ["listen('8080') ($PORT)", ['8080', cb], { kind: 'tcp', host: null, port: 8080 }, true],
    [
      "listen(3000, '0.0.0.0', 511, cb)",
      [3000, '0.0.0.0', 511, cb],
      { kind: 'tcp', host: '0.0.0.0', port: 3000 },
      true,
    ],
    ['listen(3000, 511)', [3000, 511], { kind: 'tcp', host: null, port: 3000 }, false],
    [
      'listen({ port, host })',
      [{ port: 81, host: '::1' }],
      { kind: 'tcp', host: '::1', port: 81 },
      false,
    ],
    ['listen({ port: "82" })', [{ port: '82' }], { kind: 'tcp', host: null, port: 82 }, false],
    ['listen({})', [{}], { kind: 'tcp', host: null, port: 0 }, false],
    ["listen('/tmp/s.sock')", ['/tmp/s.sock'], { kind: 'path', path: '/tmp/s.sock' }, false],
    ['listen({ path })', [{ path: '/tmp/p' }, cb], { kind: 'path', path: '/tmp/p' }, true],
    ['listen({ fd: 5 })', [{ fd: 5 }], { kind: 'handle' }, false],
  ];
  for (const [name, args, request, hasCallback] of cases)
    it(name, () => {
      const parsed = parseListenArgs(args);
      assert.deepEqual(parsed.request, request);
      assert.equal(parsed.callback !== null, hasCallback);
    });
});

describe('decideListen', () => {
  const state = (over: Partial<ListenState> = {}): ListenState => ({
    main: null,
    exportForm: false,
    seen: [],
    boundPorts: [8000],
    serverListening: false,
    ...over,
  });
  const tcp = (port: number, host: string | null = null): ListenRequest => ({
    kind: 'tcp',
    host,
    port,
  });

  it('the first listen() is the main server, whatever port it names', () => {
    for (const port of [0, 3000, 8000]) assert.equal(decideListen(state(), tcp(port)).kind, 'main');
  });
  it('the same port on another host (Fastify on localhost: 127.0.0.1 and ::1) is an alias', () => {
    const s = state({ main: { port: 3000 }, seen: ['127.0.0.1|3000'] });
    assert.equal(decideListen(s, tcp(3000, '::1')).kind, 'alias');
    // ... also on the port the main server was given (what address() told the app).
    assert.equal(decideListen(state({ main: { port: 0 } }), tcp(8000, '::1')).kind, 'alias');
  });
  it('twice on one address is refused', () => {
    const d = decideListen(state({ main: { port: 3000 }, seen: ['|3000'] }), tcp(3000));
    assert.equal(d.kind, 'refuse');
    assert.match((d as { message: string }).message, /twice on the same address/);
  });
  it('a server that already listens is refused', () => {
    assert.equal(decideListen(state({ serverListening: true }), tcp(0)).kind, 'refuse');
  });
  it('a unix path is refused with the --bind to use instead', () => {
    const d = decideListen(state(), { kind: 'path', path: '/tmp/a.sock' });
    assert.match((d as { message: string }).message, /--bind unix:\/tmp\/a\.sock/);
  });
  it('a port tsgun did not bind is passed to Node; one it bound for the main server is refused', () => {
    const s = state({ main: { port: 8000 }, boundPorts: [8000, 9100], seen: ['|8000'] });
    assert.equal(decideListen(s, tcp(9200)).kind, 'pass');
    assert.equal(decideListen(s, tcp(0)).kind, 'pass');
    assert.equal(decideListen(s, tcp(9100)).kind, 'refuse');
  });
  it('after the export form was chosen, every listen() is an extra', () => {
    assert.equal(decideListen(state({ exportForm: true }), tcp(9200)).kind, 'pass');
    assert.equal(decideListen(state({ exportForm: true }), tcp(8000)).kind, 'refuse');
  });
});

describe('pickWorkerIndex', () => {
  let nextId = 1;
  const w = (index: number, over: Partial<IndexedWorker> = {}): IndexedWorker => {
    const id = nextId++;
    return { id, index, generation: 1, state: 'ready', retiring: false, spawnedAt: id, ...over };
  };

  it('start and TTIN: the lowest free index', () => {
    assert.equal(pickWorkerIndex([], 1), 0);
    assert.equal(pickWorkerIndex([w(0)], 1), 1);
    assert.equal(pickWorkerIndex([w(0), w(2)], 1), 1);
    assert.equal(pickWorkerIndex([w(0), w(1), w(2)], 1), 3);
  });
  it('a crash: the dead worker is gone, so its index is the lowest free one', () => {
    assert.equal(pickWorkerIndex([w(0), w(2)], 1), 1);
  });
  it('stopping workers hold no index', () => {
    assert.equal(pickWorkerIndex([w(0, { state: 'closing' }), w(1)], 1), 0);
  });
  it('a reload: each new worker takes the index of the oldest stale worker not yet replaced', () => {
    const older = w(1, { spawnedAt: 1 });
    const newer = w(0, { spawnedAt: 2 });
    assert.equal(pickWorkerIndex([older, newer], 2), 1);
    const fresh = w(1, { generation: 2, state: 'booting', spawnedAt: 3 });
    assert.equal(pickWorkerIndex([older, newer, fresh], 2), 0);
  });
  it('a recycle (--max-requests): the replacement takes the retiring worker index', () => {
    assert.equal(pickWorkerIndex([w(0), w(1, { retiring: true }), w(2)], 1), 1);
  });
});
