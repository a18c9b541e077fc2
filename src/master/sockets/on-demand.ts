import type { ChildProcess } from 'node:child_process';
import { decideBindRequest, describeWanted, type WantedAddress } from '../../config/on-demand.js';
import { masterMessage } from '../../ipc/protocol.js';
import type { Logger } from '../../log/logger.js';
import { type BoundSocket, bindAppAddress, socketUrl } from './sockets.js';

/**
 * With no bind configured, the master binds what the app's first listen() asks for (decisions in
 * config/on-demand.ts) when a worker asks ('want-bind'). The socket is the master's from then on,
 * exactly like one bound at start: it joins `sockets` (the array every fork, the stats, the
 * listen queue reader and USR2 read), so it outlives every worker, later workers inherit it as an
 * fd, and the asking worker gets it as an IPC handle, as a spare gets its sockets.
 */
export class OnDemandBind {
  private wanted: WantedAddress | null = null;
  private binding: Promise<BoundSocket> | null = null;

  constructor(
    private readonly sockets: BoundSocket[],
    private readonly logger: Logger,
    private readonly https: boolean,
  ) {
    // After a USR2 the socket the old master bound on demand is this one's already.
    const kept = sockets[0];
    if (kept?.address.kind === 'tcp') {
      this.wanted = { host: kept.address.host, port: kept.address.port };
      this.binding = Promise.resolve(kept);
    }
  }

  /** A worker's 'want-bind' (already validated): answer it with the socket or one line. */
  request(child: ChildProcess, wanted: WantedAddress): void {
    const decision = decideBindRequest(this.wanted, wanted);
    if (decision.kind === 'refuse') {
      answer(child, decision.message, null);
      return;
    }
    if (decision.kind === 'bind') {
      this.wanted = wanted;
      this.binding = this.bind(wanted);
    }
    this.binding?.then(
      (socket) => answer(child, null, socket),
      (err: unknown) => answer(child, (err as Error).message, null),
    );
  }

  private async bind(wanted: WantedAddress): Promise<BoundSocket> {
    try {
      const socket = await bindAppAddress(wanted.host, wanted.port);
      this.sockets.push(socket);
      const url = socketUrl(socket, this.https);
      this.logger.info(
        { address: url, bind: describeWanted(wanted), onDemand: true },
        `listening at: ${url} (${process.pid}), the address the app's listen() asked for`,
      );
      return socket;
    } catch (err) {
      // Nothing kept: the next worker (after the crash backoff) asks again, and may get it.
      this.wanted = null;
      this.binding = null;
      const message = (err as Error).message;
      throw new Error(
        message.startsWith('address already in use')
          ? `${message}: another process holds port ${wanted.port}, which the app's listen() asks for (stop it, or give --bind to serve the app elsewhere)`
          : message,
      );
    }
  }
}

function answer(child: ChildProcess, error: string | null, socket: BoundSocket | null): void {
  if (!child.connected) return;
  try {
    if (socket) child.send(masterMessage({ type: 'bind-result', error }), socket.handle as never);
    else child.send(masterMessage({ type: 'bind-result', error }));
  } catch {
    // The worker is gone: it is reaped as usual.
  }
}
