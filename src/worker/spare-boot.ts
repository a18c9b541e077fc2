import { sendToMaster } from '../child/attach.js';
import { WORKER_ENV, workerMessage } from '../ipc/protocol.js';
import { receiveFromMaster } from '../ipc/receive.js';

/**
 * A spare worker (master/children/spare.ts) started before the master had a config: wait for what a
 * worker forked now would have been given, its environment (the config is in it) and umask, and
 * then its listening sockets. Resolves with the sockets in bind order; null when this process is not a
 * spare (its sockets are inherited fds).
 */
export function awaitSpareBoot(): Promise<object[] | null> {
  if (process.env[WORKER_ENV.spare] !== '1') return Promise.resolve(null);
  delete process.env[WORKER_ENV.spare];
  return new Promise((resolve) => {
    const sockets: object[] = [];
    let expected = -1;
    let received = 0;
    const onMessage = (value: unknown, handle: unknown) => {
      const got = receiveFromMaster(value);
      if (got.kind !== 'ours') return;
      const m = got.message;
      if (m.type === 'boot') {
        Object.assign(process.env, m.env);
        process.umask(m.umask);
        expected = m.sockets;
      } else if (m.type === 'socket' && handle && sockets[m.index] === undefined) {
        sockets[m.index] = handle as object;
        received++;
      } else return;
      if (received === expected) {
        process.off('message', onMessage);
        resolve(sockets);
      }
    };
    // Until then the master sends nothing: a cluster worker drops what comes before a listener.
    process.on('message', onMessage);
    sendToMaster(workerMessage({ type: 'spare-waiting' }));
  });
}
