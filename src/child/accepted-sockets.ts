import { Server as NetServer, type ServerOpts, Socket } from 'node:net';

/** What the rest of a worker reads of its open connections: how many, and each socket. */
export interface SocketList extends Iterable<Socket> {
  readonly size: number;
}

/** Node's own bookkeeping of a net.Server's connections, internal to Node: read only here. */
interface NodeServerInternals {
  /** Open connections the server accepted: Node counts them up on accept, down on destroy. */
  _connections: number;
  /** Called by Node after each accepted socket's destroy (and by close()). */
  _emitCloseIfDrained(): void;
}

interface NodeSocketInternals {
  /** The net.Server that accepted the socket. */
  _server?: NetServer | null;
}

type ActiveHandles = () => unknown[];

function nodeInternal<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new Error(`${name} is missing in Node ${process.version}`);
  return value;
}

// Looked up once: a Node line without them fails at the worker's first listen, not in a request.
const activeHandles = nodeInternal(
  (process as unknown as { _getActiveHandles?: ActiveHandles })._getActiveHandles,
  'process._getActiveHandles',
).bind(process);
const emitCloseIfDrained = nodeInternal(
  (NetServer.prototype as unknown as Partial<NodeServerInternals>)._emitCloseIfDrained,
  'net.Server.prototype._emitCloseIfDrained',
);

/**
 * The connections a worker (or the router) accepted, read from Node's own bookkeeping instead of
 * a list kept by tsgun: each net.Server counts its open connections (`_connections`, which also
 * drives its 'close' event), and every open socket is in the process's handle list
 * (`process._getActiveHandles()`). Adding nothing per connection matters: under a no-keep-alive
 * load an entry in a list of tsgun's plus a 'close' listener per connection cost about 4% of a
 * worker's throughput (DEVELOPERS.md, "Throughput against bare Node"). Counting is O(listeners);
 * listing is O(handles), for the once-a-second sweeps, the drain and a full worker only.
 *
 * These are Node internals (like `_listen2` in listen-local.ts), used in this file alone and
 * checked on Node 20, 22 and 24 (test/integration/accepted-sockets.test.ts, and the tests that
 * fill, pause and drain a worker). `_getActiveHandles` is deprecated in the documentation only
 * (DEP0161, no warning at run time); its public successor names the resources' types, not them.
 */
export class AcceptedSockets implements SocketList {
  /** Listening servers, open or closed with connections still open (a closed one leaves on 'close'). */
  private servers: NetServer[] = [];

  /**
   * A server to listen with whose connections count here; `onGone` runs after each of them is
   * destroyed (with the count already down).
   */
  createServer(
    options: ServerOpts,
    onConnection: (socket: Socket) => void,
    onGone: () => void,
  ): NetServer {
    const server = new NetServer(options, onConnection);
    (server as unknown as NodeServerInternals)._emitCloseIfDrained = function (this: NetServer) {
      emitCloseIfDrained.call(this);
      onGone();
    };
    this.servers.push(server);
    server.once('close', () => {
      this.servers = this.servers.filter((s) => s !== server);
    });
    return server;
  }

  get size(): number {
    let open = 0;
    for (const server of this.servers)
      open += (server as unknown as NodeServerInternals)._connections;
    return open;
  }

  *[Symbol.iterator](): Generator<Socket> {
    const servers = this.servers;
    for (const handle of activeHandles()) {
      if (!(handle instanceof Socket) || handle.destroyed) continue;
      const server = (handle as NodeSocketInternals)._server;
      if (server && servers.includes(server)) yield handle;
    }
  }
}
