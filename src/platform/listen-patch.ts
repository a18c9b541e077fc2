import { Server } from 'node:net';

type Listen = typeof Server.prototype.listen;

/** Node's own listen(), for tsgun's servers and what the app's listen() passes through to. */
export const nativeListen: Listen = Server.prototype.listen;

/**
 * Replace `net.Server.prototype.listen` for every server of this process (the one prototype
 * patch of a worker besides the books' unref watch): an app that calls listen() itself is
 * served from the master's sockets (worker/listen-capture.ts decides what each call does).
 */
export function replaceServerListen(listen: (server: Server, args: unknown[]) => Server): void {
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    return listen(this, args);
  } as Listen;
}
