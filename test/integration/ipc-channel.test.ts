import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { boundChannel, refuseHandles } from '../../src/master/children/channel-guard.js';
import { inspectChannelReads } from '../../src/platform/ipc-channel.js';
import { fixture } from '../helpers/tsgun.js';

/**
 * The master's view of a child's IPC channel (src/platform/ipc-channel.ts) on a real child: the
 * inspector is given exactly the bytes the child wrote, read by read, on every Node line (Node 24
 * and 26 hand a read over in a buffer larger than it), and Node still parses every message.
 */

const children: ReturnType<typeof fork>[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

describe("a child's IPC channel, seen before Node parses it", () => {
  it('the inspector sees every byte the child wrote, in order and no other; Node parses them all', async () => {
    const n = 480;
    const child = fork(fixture('ipc-pattern.mjs'), [String(n)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    children.push(child);
    const reads: Buffer[] = [];
    assert.equal(
      inspectChannelReads(child, (bytes) => {
        reads.push(Buffer.from(bytes));
        return true;
      }),
      true,
    );
    let parsed = 0;
    child.on('message', (m: { i: number }) => {
      assert.equal(m.i, parsed);
      parsed++;
    });
    await once(child, 'exit');
    const expected = Array.from(
      { length: n },
      (_, i) =>
        `${JSON.stringify({ i, pad: String.fromCharCode(97 + (i % 26)).repeat((i * 7919) % 131072) })}\n`,
    ).join('');
    const seen = Buffer.concat(reads);
    assert.equal(parsed, n);
    assert.equal(seen.length, Buffer.byteLength(expected), 'as many bytes as the child wrote');
    assert.ok(seen.equals(Buffer.from(expected)), 'the same bytes');
    assert.ok(reads.length > 100, `${reads.length} reads`);
  });

  for (const mode of ['want-handle', 'with-handle'])
    it(`a line past the bounds (${mode}): the channel closes at once, no descriptor is left`, {
      timeout: 30_000,
    }, async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const fds = () => readdirSync('/proc/self/fd').length;
      const before = fds();
      const child = fork(fixture('ipc-overbound.mjs'), [mode], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'json',
      });
      children.push(child);
      assert.equal(boundChannel(child), true);
      const errors: Error[] = [];
      child.on('error', (err) => errors.push(err));
      // A worker asking for the sockets: the handle's ACK would come behind the refused bytes.
      child.on('message', (m: { type?: string }) => {
        if (m.type === 'want') child.send({ type: 'socket' }, server);
      });
      await once(child, 'disconnect');
      if (mode === 'with-handle') child.kill('SIGTERM');
      await once(child, 'exit');
      const left = fds();
      server.close();
      assert.deepEqual(errors, []);
      assert.equal(left, before, 'the channel and any handle the child sent are closed');
    });

  it('a listening server a child sends is closed in the master at once, never listened on', {
    timeout: 20_000,
  }, async () => {
    const child = fork(fixture('ipc-send-server.mjs'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    children.push(child);
    refuseHandles(child);
    const [message] = (await once(child, 'message', {})) as [{ port?: number }];
    assert.ok(message.port);
    // The child's own copy is closed too: nothing accepts on the port any more.
    await new Promise<void>((resolve) =>
      child.on('message', (m: { closed?: number }) => m.closed && resolve()),
    );
    const socket = connect(message.port, '127.0.0.1');
    const [err] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'ECONNREFUSED');
    child.disconnect();
    await once(child, 'exit');
  });
});
