import type { ChildProcess } from 'node:child_process';
import type { Config } from '../../config/registry.js';
import type { TlsMaterial } from '../../ipc/protocol.js';
import { masterMessage } from '../../ipc/protocol.js';
import { receiveFromWorker } from '../../ipc/receive.js';
import type { OnDemandBind } from '../sockets/on-demand.js';
import type { BoundSocket } from '../sockets/sockets.js';
import type { DataPathMode, ModeOptions, WorkerSlot } from './mode.js';

/**
 * The default data path: every worker inherits the master's listening sockets and accepts on them
 * itself (the kernel spreads connections); the master is never in the data path and has no
 * process of its own to supervise.
 */
export class DirectMode implements DataPathMode {
  private readonly sockets: readonly BoundSocket[];
  private readonly onDemand: OnDemandBind | null;
  private tls: TlsMaterial | null;

  constructor(opts: ModeOptions) {
    this.sockets = opts.sockets;
    this.onDemand = opts.onDemand ?? null;
    this.tls = opts.tls;
  }

  slot(_id: number, config: Config): WorkerSlot {
    // Read at the fork: a worker forked after a HUP gets the rotated certificate.
    const tls = this.tls;
    // On demand, a worker's bind is what the master bound so far (none: its app's listen() asks).
    const onDemand = this.onDemand;
    return {
      config: onDemand ? { ...config, bind: this.sockets.map((s) => s.address) } : config,
      sockets: this.sockets,
      ...(onDemand ? { bind: onDemand } : {}),
      welcome: (child: ChildProcess) => {
        // After the worker's first heartbeat, sent as it starts listening to us: a cluster worker
        // drops messages that arrive before it has a 'message' listener (and a spare, which says
        // 'spare-waiting' first, listens only for its boot until then).
        if (!tls) return;
        const afterFirstBeat = (value: unknown) => {
          const got = receiveFromWorker(value);
          if (got.kind !== 'ours' || got.message.type !== 'heartbeat') return;
          child.off('message', afterFirstBeat);
          if (child.connected) child.send(masterMessage({ type: 'tls', ...tls }));
        };
        child.on('message', afterFirstBeat);
      },
      release: () => {},
    };
  }

  setTls(tls: TlsMaterial | null): void {
    this.tls = tls;
  }
}
