import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bindsOnDemand,
  DEFAULT_APP_ADDRESS,
  decideBindRequest,
  describeWanted,
  wantedAddress,
} from '../../src/config/on-demand.js';
import { receiveFromMaster, receiveFromWorker } from '../../src/ipc/receive.js';

describe('the bind made on demand', () => {
  const unbound = {
    bindSource: 'default',
    portEnv: undefined,
    router: false,
    inherited: null,
  } as const;

  it('applies only when no bind is configured anywhere, in direct mode, without systemd sockets', () => {
    assert.equal(bindsOnDemand(unbound), true);
    for (const bindSource of ['cli', 'file', 'env', 'TSGUN_CMD_ARGS'] as const)
      assert.equal(bindsOnDemand({ ...unbound, bindSource }), false, bindSource);
    assert.equal(bindsOnDemand({ ...unbound, portEnv: '5000' }), false, 'PORT names the bind');
    assert.equal(bindsOnDemand({ ...unbound, portEnv: '' }), true, 'an empty PORT names nothing');
    assert.equal(bindsOnDemand({ ...unbound, router: true }), false, 'the router binds at start');
    assert.equal(bindsOnDemand({ ...unbound, inherited: 'LISTEN_FDS' }), false, 'systemd binds');
    assert.equal(bindsOnDemand({ ...unbound, inherited: 'TSGUN_FD' }), true, 'USR2 goes on');
  });

  it("asks for the app's address, the default for no port or an exported app", () => {
    assert.deepEqual(wantedAddress({ host: null, port: 3000 }), { host: null, port: 3000 });
    assert.deepEqual(wantedAddress({ host: '::1', port: 3000 }), { host: '::1', port: 3000 });
    assert.deepEqual(wantedAddress({ host: '0.0.0.0', port: 0 }), DEFAULT_APP_ADDRESS);
    assert.deepEqual(wantedAddress(null), DEFAULT_APP_ADDRESS);
    assert.deepEqual(DEFAULT_APP_ADDRESS, { host: '127.0.0.1', port: 8000 });
  });

  it('binds the first address, shares it, and refuses another one with one line naming both', () => {
    const any3000 = { host: null, port: 3000 };
    assert.equal(decideBindRequest(null, any3000).kind, 'bind');
    assert.equal(decideBindRequest(any3000, { host: null, port: 3000 }).kind, 'share');
    const other = decideBindRequest(any3000, { host: null, port: 3001 });
    assert.equal(other.kind, 'refuse');
    assert.match(other.kind === 'refuse' ? other.message : '', /\*:3001.*\*:3000.*--bind/);
    assert.equal(decideBindRequest(any3000, { host: '127.0.0.1', port: 3000 }).kind, 'refuse');
    assert.equal(describeWanted({ host: '::1', port: 80 }), '[::1]:80');
    assert.equal(describeWanted({ host: 'localhost', port: 80 }), 'localhost:80');
  });

  it("validates a worker's want-bind as untrusted input, and the master's answer", () => {
    const want = (host: unknown, port: unknown) =>
      receiveFromWorker({ tsgun: 1, type: 'want-bind', host, port }).kind;
    assert.equal(want(null, 3000), 'ours');
    assert.equal(want('127.0.0.1', 1), 'ours');
    assert.equal(want('fe80::1%eth0', 65535), 'ours');
    assert.equal(want('example.com', 443), 'ours');
    for (const port of [0, -1, 65536, 1.5, '3000', null, undefined])
      assert.equal(want(null, port), 'invalid', String(port));
    for (const host of ['', 'x'.repeat(254), 'a b', 'unix:/tmp/s', 42, {}, ['h']])
      assert.equal(want(host, 3000), 'invalid', String(host));
    assert.equal(receiveFromMaster({ tsgun: 1, type: 'bind-result', error: null }).kind, 'ours');
    assert.equal(receiveFromMaster({ tsgun: 1, type: 'bind-result', error: 'no' }).kind, 'ours');
    assert.equal(receiveFromMaster({ tsgun: 1, type: 'bind-result', error: 1 }).kind, 'invalid');
  });
});
