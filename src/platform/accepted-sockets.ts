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

const activeHandlesOf = (process as unknown as { _getActiveHandles?: ActiveHandles })
  ._getActiveHandles;
const nativeEmitCloseIfDrained = (NetServer.prototype as unknown as Partial<NodeServerInternals>)
  ._emitCloseIfDrained;

/**
 * Whether Node's own books are read (fast) or connections are tracked with public events (a Set
 * and a 'close' listener per connection: correct, and slower under a no-keep-alive load). Node's
 * books are used unless the master's check (checks.ts) saw them fail: a child takes its verdict.
 */
const nodeBooksExist =
  typeof activeHandlesOf === 'function' && typeof nativeEmitCloseIfDrained === 'function';
let nodeBooks = nodeBooksExist;

/** checks.ts: the books failed their check (or a test broke them): track with public events. */
export function useTrackedSockets(): void {
  nodeBooks = false;
}

export const readsNodeBooks = (): boolean => nodeBooks;

/** Whether Node's books exist at all (checks.ts exercises them only then). */
export const canReadNodeBooks = (): boolean => nodeBooksExist;

/** Every server an AcceptedSockets listens with: tsgun's own listening servers. */
const ownServers = new WeakSet<NetServer>();

/** A listening server of tsgun's (not the app's: listen-capture leaves its listen() alone). */
export const isOwnListener = (server: NetServer): boolean => ownServers.has(server);

/**
 * Accepted sockets the app unref()ed: Node's handle list leaves unreferenced handles out, so they
 * are remembered here (unref() on an accepted socket is rare: the cost is on that call alone).
 * The one prototype patch of the books, installed with the first server that reads them.
 */
const unreferenced = new Set<Socket>();
let unrefWatched = false;
function watchUnref(): void {
  if (unrefWatched) return;
  unrefWatched = true;
  const nativeUnref = Socket.prototype.unref;
  Socket.prototype.unref = function (this: Socket): Socket {
    const server = (this as NodeSocketInternals)._server;
    if (server && ownServers.has(server) && !unreferenced.has(this)) {
      unreferenced.add(this);
      this.once('close', () => unreferenced.delete(this));
    }
    return nativeUnref.call(this);
  };
}

/**
 * The connections a worker (or the router) accepted. With Node's books: each net.Server counts
 * its open connections (`_connections`, which also drives its 'close' event), and every open
 * socket is in the process's handle list (`process._getActiveHandles()`, with the few the app
 * unref()ed added), so nothing is added per connection (why that matters: docs/benchmarks.md).
 * Counting is O(listeners); listing is O(handles), for the once-a-second sweeps, the drain,
 * --stats and a full worker only. `_getActiveHandles` is deprecated in the documentation only
 * (DEP0161). Without the books (checks.ts), a Set of sockets kept by 'connection' and 'close'.
 */
export class AcceptedSockets implements SocketList {
  /** Listening servers, open or closed with connections still open (a closed one leaves on 'close'). */
  private servers: NetServer[] = [];
  /** The public-API path: every accepted socket until its 'close'. */
  private readonly tracked = new Set<Socket>();
  /** Decided when the object is made: after checks.ts in a worker or the router. */
  constructor(private readonly nodeBooks: boolean = readsNodeBooks()) {}

  /**
   * A server to listen with whose connections count here; `onGone` runs after each of them is
   * destroyed (with the count already down), and when the server itself is closed.
   */
  createServer(
    options: ServerOpts,
    onConnection: (socket: Socket) => void,
    onGone: () => void,
  ): NetServer {
    let server: NetServer;
    if (this.nodeBooks) {
      watchUnref();
      server = new NetServer(options, onConnection);
      const native = nativeEmitCloseIfDrained as () => void;
      (server as unknown as NodeServerInternals)._emitCloseIfDrained = function (this: NetServer) {
        native.call(this);
        onGone();
      };
    } else {
      server = new NetServer(options);
      server.on('connection', (socket: Socket) => {
        this.tracked.add(socket);
        socket.once('close', () => {
          this.tracked.delete(socket);
          onGone();
        });
      });
      server.on('connection', onConnection);
      server.once('close', onGone);
    }
    this.servers.push(server);
    ownServers.add(server);
    server.once('close', () => {
      this.servers = this.servers.filter((s) => s !== server);
    });
    return server;
  }

  get size(): number {
    let open = 0;
    if (!this.nodeBooks) {
      for (const socket of this.tracked) if (!socket.destroyed) open++;
      return open;
    }
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
    if (!this.nodeBooks) {
      for (const socket of [...this.tracked]) if (closing || !socket.destroyed) yield socket;
      return;
    }
    const servers = this.servers;
    const mine = (socket: Socket) => {
      const server = (socket as NodeSocketInternals)._server;
      return server != null && servers.includes(server) && (closing || !socket.destroyed);
    };
    // A socket destroyed stays in Node's handle list until its 'close'.
    const seen = unreferenced.size > 0 ? new Set<Socket>() : null;
    for (const handle of (activeHandlesOf as ActiveHandles).call(process)) {
      if (!(handle instanceof Socket) || !mine(handle)) continue;
      seen?.add(handle);
      yield handle;
    }
    if (seen)
      for (const socket of unreferenced) if (!seen.has(socket) && mine(socket)) yield socket;
  }
}
