import type { Server as NetServer, Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import { AcceptedSockets } from '../platform/accepted-sockets.js';
import { type ListenTarget, listenLocally } from './listen-local.js';
import type { Admit } from './proxy-protocol.js';
import { UNTOUCHED_GRACE_MS } from './slot-policy.js';
import type { SlotKeeper } from './slots.js';

export interface AcceptorOptions {
  readonly backlog: number;
  /** --worker-connections: at this many open connections the worker stops accepting. */
  readonly maxConnections: number;
  /** Ask the master for the listening sockets again (the worker closed its copies to pause). */
  readonly requestSockets: () => void;
  /** --stats: a connection closed (its byte count is final). */
  readonly onSocketClosed?: (socket: Socket) => void;
  /**
   * At the limit, close a connection that sends nothing (idle keep-alive first) to make room, and
   * pause only when every connection is in a request. Without it (the router), pause at once.
   */
  readonly slots?: SlotKeeper;
  readonly logger: Logger;
  /** --proxy-protocol: read each connection's PROXY header before the server gets it. */
  readonly admit?: Admit;
}

/**
 * Accepts on the master's sockets and hands each connection to the app's server.
 *
 * Node's own maxConnections accepts and then drops; instead, at the limit this closes the worker's
 * copies of the listening sockets, so further connections wait in the kernel queue for another
 * worker. The master's copy keeps each socket alive, and sends fresh copies when the worker is
 * below the limit again. With `slots`, a connection that only holds a slot (idle keep-alive, or
 * headers that never finish) is closed first, so such clients cannot lock the worker out.
 */
export class Acceptor {
  readonly sockets = new AcceptedSockets();
  private readonly listeners = new Map<number, NetServer>();
  /** Pipe handles received over IPC share their fd with the server made from it: never close them. */
  private readonly retained: object[] = [];
  private paused = false;
  private stopped = false;

  constructor(
    private readonly appServer: NetServer,
    private readonly opts: AcceptorOptions,
  ) {
    opts.slots?.start(this.sockets, () => this.resumeIfRoom());
  }

  listen(index: number, target: ListenTarget): Promise<void> {
    const listener = this.sockets.createServer(
      { allowHalfOpen: true, noDelay: true },
      this.onConnection,
      this.onSocketGone,
    );
    this.listeners.set(index, listener);
    return new Promise((resolve, reject) => {
      listener.once('error', reject);
      listenLocally(listener, target, this.opts.backlog, () => {
        listener.off('error', reject);
        listener.on('error', (err) => this.opts.logger.error({ err }, 'listening socket error'));
        resolve();
      });
    });
  }

  /** Where socket `index` listens (null while paused or stopped). */
  address(index: number): ReturnType<NetServer['address']> {
    return this.listeners.get(index)?.address() ?? null;
  }

  /** Listen on socket `index` received over IPC (a spare worker's sockets, master/children/spare.ts). */
  listenReceived(index: number, handle: object): Promise<void> {
    this.retained.push(handle);
    return this.listen(index, handle);
  }

  /** A fresh copy of socket `index` arrived from the master after a pause. */
  adopt(index: number, handle: object): void {
    if (this.stopped || this.listeners.has(index)) {
      (handle as { close?: () => void }).close?.();
      return;
    }
    this.listenReceived(index, handle).catch((err: unknown) =>
      this.opts.logger.error({ err }, 'cannot listen again'),
    );
  }

  /** Stop accepting for good: the worker is stopping. Open connections stay. */
  stop(): void {
    this.stopped = true;
    this.closeListeners();
  }

  /** Paused while every connection was in a request: accept again once one only holds a slot. */
  private resumeIfRoom(): void {
    if (!this.paused || this.stopped || this.listeners.size > 0) return;
    const probe = this.opts.slots?.victim(null);
    if (probe) this.resume();
  }

  private resume(): void {
    this.paused = false;
    this.opts.logger.debug({ connections: this.sockets.size }, 'accepting again');
    this.opts.requestSockets();
  }

  /** Over the limit: close the connection that holds a slot for nothing; false if none does. */
  private makeRoom(spare: Socket): boolean {
    const victim = this.opts.slots?.victim(spare);
    if (!victim) return false;
    victim.destroy();
    return true;
  }

  private closeListeners(): void {
    for (const listener of this.listeners.values()) listener.close();
    this.listeners.clear();
  }

  // Nothing per connection below the limit but a count (accepted-sockets.ts says why).
  private readonly onConnection = (socket: Socket): void => {
    const onSocketClosed = this.opts.onSocketClosed;
    if (onSocketClosed) socket.once('close', () => onSocketClosed(socket));
    if (this.sockets.size > this.opts.maxConnections) this.makeRoom(socket);
    if (
      !this.paused &&
      this.sockets.size >= this.opts.maxConnections &&
      !this.opts.slots?.victim(socket)
    ) {
      this.paused = true;
      this.closeListeners();
      // A connection spared for having nothing read yet may be a silent one: look again then.
      if (this.opts.slots) setTimeout(() => this.resumeIfRoom(), UNTOUCHED_GRACE_MS).unref();
      this.opts.logger.debug(
        { connections: this.sockets.size },
        'worker-connections reached: not accepting',
      );
    }
    if (this.opts.admit) this.opts.admit(socket, this.serve);
    else this.appServer.emit('connection', socket);
  };

  private readonly serve = (socket: Socket): void => {
    this.appServer.emit('connection', socket);
  };

  /** A connection was destroyed (the count is down already), or a listening server closed. */
  private readonly onSocketGone = (): void => {
    if (this.paused && !this.stopped && this.sockets.size < this.opts.maxConnections) this.resume();
  };
}
