import type { Server as NetServer } from 'node:net';
import { forcedBroken } from './break-switch.js';

/**
 * An http.Server starts its header and request timeout checks (and its connections list) in its
 * own 'listening' listener. tsgun's servers never listen themselves (connections are fed with
 * emit('connection') from the Acceptor's listeners), so the event is emitted for them: public
 * API, but what it starts is Node's implementation, checked by behaviour in checks.ts.
 */
export function armServerTimeouts(server: NetServer): void {
  if (forcedBroken('timeouts')) return;
  server.emit('listening');
}
