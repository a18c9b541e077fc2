import { Server as NetServer, type ServerOpts, Socket } from 'node:net';

/** What the rest of a worker reads of its open connections: how many, and each socket. */
export interface SocketList extends Iterable<Socket> {
  readonly size: number;
  /**
   * The open sockets and those destroyed whose 'close' is still to come: a byte count taken over
   * these never goes down between a destroy and the 'close' that hands the socket's bytes on.
   */
  withClosing(): Iterable<Socket>;
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

// Looked up once, as the module loads: a Node line without them fails as a worker or the router
// boots (a boot failure the master reports), never in a request.
const activeHandles = nodeInternal(
  (process as unknown as { _getActiveHandles?: ActiveHandles })._getActiveHandles,
  'process._getActiveHandles',
).bind(process);
const emitCloseIfDrained = nodeInternal(
  (NetServer.prototype as unknown as Partial<NodeServerInternals>)._emitCloseIfDrained,
  'net.Server.prototype._emitCloseIfDrained',
);

/** Every server an AcceptedSockets listens with: tsgun's own listening servers. */
const ownServers = new WeakSet<NetServer>();

/** A listening server of tsgun's (not the app's: listen-capture leaves its listen() alone). */
export const isOwnListener = (server: NetServer): boolean => ownServers.has(server);

/**
 * Accepted sockets the app unref()ed: Node's handle list leaves unreferenced handles out, so they
 * are remembered here (unref() on an accepted socket is rare: the cost is on that call alone).
 */
const unreferenced = new Set<Socket>();
const nativeUnref = Socket.prototype.unref;
Socket.prototype.unref = function (this: Socket): Socket {
  const server = (this as NodeSocketInternals)._server;
  if (server && ownServers.has(server) && !unreferenced.has(this)) {
    unreferenced.add(this);
    this.once('close', () => unreferenced.delete(this));
  }
  return nativeUnref.call(this);
};

/**
 * The connections a worker (or the router) accepted, read from Node's own bookkeeping instead of
 * a list kept by tsgun: each net.Server counts its open connections (`_connections`, which also
 * drives its 'close' event), and every open socket is in the process's handle list
 * (`process._getActiveHandles()`, with the few the app unref()ed added). Adding nothing per
 * connection matters: under a no-keep-alive load an entry in a list of tsgun's plus a 'close'
 * listener per connection cost about 4% of a worker's throughput (DEVELOPERS.md, "Throughput
 * against bare Node"). Counting is O(listeners); listing is O(handles), for the once-a-second
 * sweeps, the drain, --stats and a full worker only.
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
   * destroyed (with the count already down), and when the server itself is closed.
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
    ownServers.add(server);
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

  [Symbol.iterator](): Generator<Socket> {
    return this.list(false);
  }

  withClosing(): Generator<Socket> {
    return this.list(true);
  }

  private *list(closing: boolean): Generator<Socket> {
    const servers = this.servers;
    const mine = (socket: Socket) => {
      const server = (socket as NodeSocketInternals)._server;
      return server != null && servers.includes(server) && (closing || !socket.destroyed);
    };
    // A socket destroyed stays in Node's handle list until its 'close'.
    const seen = unreferenced.size > 0 ? new Set<Socket>() : null;
    for (const handle of activeHandles()) {
      if (!(handle instanceof Socket) || !mine(handle)) continue;
      seen?.add(handle);
      yield handle;
    }
    if (seen)
      for (const socket of unreferenced) if (!seen.has(socket) && mine(socket)) yield socket;
  }
}
