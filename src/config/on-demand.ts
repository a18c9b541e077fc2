/**
 * Pure decisions for the bind made on demand: with no bind configured, the master binds the
 * address the app's first listen() asks for, as Node's cluster primary does (`app.listen(3000)`
 * is served on :3000, as under PM2 or `node server.js`). No I/O here; master/sockets/on-demand.ts binds.
 */

import type { Source } from './resolve.js';

/** An address as a worker asks for it: host null is any address (Node's `::`, else `0.0.0.0`). */
export interface WantedAddress {
  readonly host: string | null;
  readonly port: number;
}

/** What an app that names no port, or exports its server, is served on: tsgun's old default. */
export const DEFAULT_APP_ADDRESS: WantedAddress = { host: '127.0.0.1', port: 8000 };

/**
 * Whether the master binds on demand: no bind configured anywhere (no -b, no `bind` in a config
 * file or TSGUN_BIND, no PORT, which names the port to bind), direct mode (the router binds at
 * start, as before), and no socket from systemd (those are the binds). Sockets from a USR2
 * upgrade are the ones the old master bound on demand: the new master goes on as it did.
 */
export function bindsOnDemand(opts: {
  readonly bindSource: Source;
  readonly portEnv: string | undefined;
  readonly router: boolean;
  readonly inherited: 'TSGUN_FD' | 'LISTEN_FDS' | null;
}): boolean {
  return (
    opts.bindSource === 'default' &&
    !opts.portEnv &&
    !opts.router &&
    opts.inherited !== 'LISTEN_FDS'
  );
}

/**
 * The address a worker asks for: the one its app's first listen() named, or the default when it
 * named no port (`listen()`, `listen(0)`: Node's cluster would share a random port nobody knows;
 * tsgun serves where it always has) or exported its server (`main` null).
 */
export function wantedAddress(main: WantedAddress | null): WantedAddress {
  if (!main || main.port === 0) return DEFAULT_APP_ADDRESS;
  return main;
}

export type BindDecision =
  /** Nothing bound or being bound: bind this address, and keep it. */
  | { readonly kind: 'bind' }
  /** The address bound (or being bound) already: the same socket. */
  | { readonly kind: 'share' }
  | { readonly kind: 'refuse'; readonly message: string };

/** `*:3000` for any address (a listen() with a port and no host), `[::1]:3000`, `127.0.0.1:3000`. */
export const describeWanted = (a: WantedAddress): string =>
  `${a.host === null ? '*' : a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/**
 * One address per master, as with a configured bind: the first request binds it, the same
 * address again shares the socket, another address is refused (one line, naming both).
 */
export function decideBindRequest(
  current: WantedAddress | null,
  request: WantedAddress,
): BindDecision {
  if (!current) return { kind: 'bind' };
  if (current.host === request.host && current.port === request.port) return { kind: 'share' };
  return {
    kind: 'refuse',
    message: `the app listens on ${describeWanted(request)}, but this master serves ${describeWanted(current)} (bound for the first worker's listen()): without --bind a master binds one address; give --bind to choose`,
  };
}
