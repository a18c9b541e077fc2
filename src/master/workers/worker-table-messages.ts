import { masterMessage, workerCounters } from '../../ipc/protocol.js';
import type { OnceMessages, WorkerMessageHandlers } from '../children/worker-messages.js';
import type { JobRuns } from '../jobs/job-runs.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { ArbiterHost } from '../modes/mode.js';
import type { MasterStats } from '../stats/master-stats.js';
import type { WorkerNotices } from './worker-notices.js';
import type { WorkerRecord } from './worker-record.js';

/** What the handlers need of the worker table. */
export interface MessageTable {
  readonly deps: {
    readonly host: ArbiterHost;
    readonly stats: MasterStats;
    readonly scheduler: Scheduler;
    readonly jobs: JobRuns;
  };
  /** `ready` and `jobs`, once per worker. */
  readonly once: OnceMessages;
  readonly notices: WorkerNotices;
  views(): readonly WorkerRecord[];
  /** The code generation new workers run. */
  generation(): number;
  /** The worker said it is ready (checked once already). */
  ready(w: WorkerRecord): void;
}

/**
 * What the master does with each message a worker sends, one small handler per type (every message
 * of ours also counts as a heartbeat). The worker's lifecycle stays in worker-table.ts; the
 * handlers only record, forward, or answer.
 */
export function tableMessages(t: MessageTable): WorkerMessageHandlers<WorkerRecord> {
  const { deps } = t;
  return {
    heartbeat: (w, m) => {
      w.connections = m.connections;
      if (m.requests !== undefined) w.requests = m.requests;
    },
    // Only the fields of the protocol are kept: whatever else the worker put in is dropped.
    stats: (w, m) => deps.stats.workerReport(w, workerCounters(m)),
    ready: (w) => {
      t.once.check(w.id, 'ready');
      t.ready(w);
    },
    retire: (w, m) => {
      w.retiring = true;
      deps.host.logger.info(
        { worker: w.id, workerPid: w.pid, reason: m.reason },
        `replacing worker: ${m.detail}`,
      );
      deps.host.wake();
    },
    jobs: (w, m) => {
      t.once.check(w.id, 'jobs');
      if (w.generation !== t.generation()) return;
      const jobs = m.jobs.map(({ name, schedule }) => ({ name, schedule }));
      deps.scheduler.setAppJobs(jobs, (name) => deps.jobs.dispatch(name));
    },
    'job-done': (w, m) => deps.jobs.done(w.id, m.runId, m.ok, m.error, m.durationMs),
    'boot-error': (w, m) => {
      w.bootError = { code: m.code, message: m.message };
    },
    // Below --worker-connections again: the sockets of its slot, so it can accept again.
    // Seen by spare.ts, which hands a spare its boot; nothing for the table.
    'spare-waiting': () => {},
    'want-bind': (w, m) => {
      if (w.slot.bind) w.slot.bind.request(w.child, { host: m.host, port: m.port });
      else if (w.child.connected)
        w.child.send(
          masterMessage({ type: 'bind-result', error: 'the master binds nothing on demand here' }),
        );
    },
    'pass-busy': (_w, m) => t.notices.passBusy(m.address, m.port, m.attempts, t.views()),
    notice: (_w, m) => t.notices.notice(m.notice),
    'want-sockets': (w) => {
      w.slot.sockets.forEach((s, index) => {
        if (w.child.connected)
          w.child.send(masterMessage({ type: 'socket', index }), s.handle as never);
      });
    },
  };
}
