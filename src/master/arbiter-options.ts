import type { Config } from '../config/registry.js';
import type { ExitCodeValue } from '../errors.js';
import type { TlsMaterial } from '../ipc/protocol.js';
import type { LogTarget } from '../log/logger.js';
import type { Credentials } from './host/user.js';
import type { OnDemandBind } from './sockets/on-demand.js';
import type { BoundSocket } from './sockets/sockets.js';

// What the arbiter is given by start.ts, what it resolves with, and what its loop works through:
// its interface, apart from the loop that implements it (arbiter.ts).

export interface ArbiterOptions {
  readonly config: Config;
  readonly argv: readonly string[];
  readonly log: LogTarget;
  readonly sockets: readonly BoundSocket[];
  /** --user/--group, resolved: workers are forked with these. */
  readonly credentials: Credentials | null;
  /** The directory tsgun started in (before --chdir): a re-executed master starts there too. */
  readonly startCwd: string;
  /** When this master is a USR2 upgrade, the pid of the master it upgrades (until promoted). */
  readonly upgradeFrom: number | null;
  /** The pidfile this master wrote (`<pid>.2` while it is an unpromoted upgrade), or null. */
  readonly pidfile: string | null;
  /** The TLS certificate and key read (and checked) at start, or null for plain HTTP. */
  readonly tls: TlsMaterial | null;
  /** min(--backlog, somaxconn): when a listen queue holds this many, it is full. */
  readonly maxBacklog: number;
  /** Whether unix socket files are this master's to remove (not systemd's, not inherited). */
  readonly ownsSocketFiles: boolean;
  /** --stats: the fd of its listening socket, for a USR2 upgrade (null without --stats). */
  readonly statsFd: () => number | null;
  /** An upgraded master, once promoted (the control socket takes over its path). */
  readonly onPromoted?: () => void;
  /** No bind configured: binds what the app's listen() asks for, into `sockets`. */
  readonly onDemand?: OnDemandBind | null;
}

/** What the loop works through: signals, and `tsgun scale N` (a target no signal can say). */
export type Queued = NodeJS.Signals | { readonly scale: number | 'auto' };

/** What run() resolves with: the exit code and, for a halt, the one-line reason. */
export interface ArbiterResult {
  readonly exitCode: ExitCodeValue;
  readonly error: string | null;
}
