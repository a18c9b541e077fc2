import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { AcceptedSockets } from '../../src/platform/accepted-sockets.js';

/**
 * The worker's connection count and list come from Node's own bookkeeping (internal to Node):
 * real sockets on 127.0.0.1, so a Node line that changes it fails here.
 */
for (const nodeBooks of [true, false])
  describe(`accepted sockets (${nodeBooks ? "Node's own books" : 'the public fallback: connections tracked by events'})`, () => {
    const clients: Socket[] = [];
    const servers: Server[] = [];
    after(() => {
      for (const c of clients) c.destroy();
      for (const s of servers) s.close();
    });

    async function listening(
      sockets: AcceptedSockets,
      onGone: () => void,
    ): Promise<{ server: Server; accepted: Socket[]; port: number }> {
      const accepted: Socket[] = [];
      const server = sockets.createServer(
        { allowHalfOpen: true },
        (socket) => {
          accepted.push(socket);
          socket.on('end', () => socket.end());
        },
        onGone,
      );
      servers.push(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { server, accepted, port: (server.address() as { port: number }).port };
    }

    async function open(port: number, n: number, accepted: Socket[]): Promise<Socket[]> {
      const mine: Socket[] = [];
      for (let i = 0; i < n; i++) {
        const c = connect(port, '127.0.0.1');
        clients.push(c);
        mine.push(c);
      }
      const want = accepted.length + n;
      while (accepted.length < want) await new Promise((r) => setImmediate(r));
      return mine;
    }

    it('counts and lists what each server accepted, down on each close, a closed server until its last one', async () => {
      const sockets = new AcceptedSockets(nodeBooks);
      let gone = 0;
      const first = await listening(sockets, () => gone++);
      const second = await listening(sockets, () => gone++);
      await open(first.port, 3, first.accepted);
      await open(second.port, 2, second.accepted);
      assert.equal(sockets.size, 5);
      const listed = new Set(sockets);
      assert.equal(listed.size, 5);
      for (const s of [...first.accepted, ...second.accepted]) assert.ok(listed.has(s));

      // A server closed (the worker pausing) still counts the connections it accepted.
      first.server.close();
      assert.equal(sockets.size, 5);
      const goneBefore = gone;
      const firstClosed = once(first.accepted[0]!, 'close');
      first.accepted[0]!.destroy();
      assert.equal(sockets.size, 4, 'down at once on destroy');
      // Node's books call it on destroy; the fallback on 'close'.
      if (!nodeBooks) await firstClosed;
      assert.ok(gone > goneBefore, 'onGone runs on destroy');
      assert.ok(![...sockets].includes(first.accepted[0]!), 'a destroyed socket is not listed');

      // A client that ends its side: the socket closes, the count follows. (Its client is found by
      // port: the order of accepts need not be the order of connects.)
      const ending = second.accepted[1]!;
      const closed = once(ending, 'close');
      clients.find((c) => c.localPort === ending.remotePort)!.end();
      await closed;
      assert.equal(sockets.size, 3);

      // The closed server leaves once its last connection is gone.
      const serverClosed = once(first.server, 'close');
      for (const s of first.accepted) s.destroy();
      await serverClosed;
      assert.equal(sockets.size, 1);
      assert.deepEqual([...sockets], [second.accepted[0]]);
    });

    it('lists a socket the app unref()ed (Node’s handle list leaves it out), until it is destroyed', async () => {
      const sockets = new AcceptedSockets(nodeBooks);
      const s = await listening(sockets, () => {});
      await open(s.port, 2, s.accepted);
      s.accepted[0]!.unref();
      s.accepted[0]!.unref(); // twice: listed once
      assert.equal(sockets.size, 2);
      assert.deepEqual(new Set(sockets), new Set(s.accepted));
      assert.equal([...sockets].length, 2);
      const closed = once(s.accepted[0]!, 'close');
      s.accepted[0]!.destroy();
      assert.deepEqual([...sockets], [s.accepted[1]]);
      assert.ok([...sockets.withClosing()].includes(s.accepted[0]!), 'until its close');
      await closed;
      assert.deepEqual([...sockets.withClosing()], [s.accepted[1]]);
    });

    it('withClosing() keeps a destroyed socket until its close (byte counts never dip)', async () => {
      const sockets = new AcceptedSockets(nodeBooks);
      const s = await listening(sockets, () => {});
      await open(s.port, 1, s.accepted);
      const socket = s.accepted[0]!;
      const closed = once(socket, 'close');
      socket.destroy();
      assert.equal(sockets.size, 0);
      assert.deepEqual([...sockets], []);
      assert.deepEqual([...sockets.withClosing()], [socket]);
      await closed;
      assert.deepEqual([...sockets.withClosing()], []);
    });

    it('lists only its own servers’ sockets', async () => {
      const mine = new AcceptedSockets(nodeBooks);
      const other = new AcceptedSockets(nodeBooks);
      const a = await listening(mine, () => {});
      const b = await listening(other, () => {});
      await open(a.port, 1, a.accepted);
      await open(b.port, 2, b.accepted);
      assert.deepEqual([...mine], a.accepted);
      assert.equal(other.size, 2);
    });
  });
