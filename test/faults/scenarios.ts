import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heldTcpConnections } from '../../src/master/host/proc-net.js';
import { request } from '../helpers/http.js';
import { fixture, type LogLine, startApp, Tsgun } from '../helpers/tsgun.js';
import {
  CONCURRENCY,
  DIRECT,
  loaded,
  type Mode,
  ROUTER,
  ROUTER2,
  type Scenario,
  serving,
  until,
} from './load.js';
import { ROUTER_SCENARIOS } from './router-scenarios.js';

function lastTarget(t: Tsgun): number {
  const lines = t.logs.filter((l) => /^TT(IN|OU):/.test(l.msg) && typeof l['workers'] === 'number');
  return lines.at(-1)!['workers'] as number;
}

// The router's own HUP tests (test/integration/router*.test.ts) run 20 and 10 reloads: 5 here.
const hupStorm = (mode: Mode, reloads = mode.router ? 5 : 20): Scenario =>
  loaded(
    `a${mode.suffix}`,
    `${reloads} HUP reloads in a row (-w 2)${mode.label}`,
    { mode, workers: 2, start: () => startApp(...mode.args, '-w', '2') },
    async (t) => {
      for (let i = 0; i < reloads; i++) {
        await t.reload(20_000);
      }
      return {
        note: `${t.logs.filter((l) => l.msg === 'worker exited').length} workers replaced`,
      };
    },
  );

const usr2Upgrade = (mode: Mode): Scenario => {
  let pidfile = '';
  const start = () => {
    pidfile = join(mkdtempSync(join(tmpdir(), 'tsgun-')), 'tsgun.pid');
    return startApp(...mode.args, '-w', '2', '-p', pidfile);
  };
  return loaded(
    `b${mode.suffix}`,
    `USR2 upgrade, WINCH and TERM of the old master${mode.label}`,
    { mode, workers: 2, start },
    async (t) => {
      const newMaster = await t.upgrade(2);
      const pid2 = Number(readFileSync(`${pidfile}.2`, 'utf8'));
      let mark = t.logs.length;
      t.signal('SIGWINCH');
      for (let i = 0; i < 2; i++) {
        const line = await t.waitForLog(
          (l) => l.pid === t.pid && l.msg === 'worker exited',
          10_000,
          mark,
        );
        mark = t.logs.indexOf(line) + 1;
      }
      t.signal('SIGTERM');
      await t.exited;
      await t.waitForLog((l) => l.pid === newMaster && l.msg === 'master has been promoted');
      const promoted = Number(readFileSync(pidfile, 'utf8'));
      if (pid2 !== newMaster || promoted !== newMaster)
        throw new Error('pidfiles do not name the new master');
      return { note: `new master ${newMaster} promoted, pidfile moved from .2` };
    },
  );
};

// Behind the router the GETs a kill cuts are retried, so 3 kills (not 5) keep the suite short.
const killWorkers = (mode: Mode, kills = mode.router ? 3 : 5): Scenario =>
  loaded(
    `c${mode.suffix}`,
    `SIGKILL of a random worker, ${kills} times (-w 3)${mode.label}`,
    { mode, workers: 3, start: () => startApp(...mode.args, '-w', '3') },
    async (t) => {
      let held = 0;
      for (let i = 0; i < kills; i++) {
        const pids = t.liveWorkerPids();
        const victim = pids[Math.floor(Math.random() * pids.length)]!;
        const mark = t.logs.length;
        // Stopped, it accepts nothing more, so the count read from /proc is what the kill cuts.
        process.kill(victim, 'SIGSTOP');
        held += heldTcpConnections(victim) ?? CONCURRENCY;
        process.kill(victim, 'SIGKILL');
        const crash = await t.waitForLog(
          (l) => l['workerPid'] === victim && l.msg.includes('SIGKILL'),
          10_000,
          mark,
        );
        await t.waitForReady(1, t.logs.indexOf(crash));
      }
      // The router retries the GETs a killed worker held on another worker: nothing is lost.
      if (mode.router) return { note: 'every GET the killed workers held was retried' };
      // A SIGKILLed worker takes the connections it held with it (read from /proc at the kill).
      return { allowed: held, note: `the killed workers held ${held} connection(s)` };
    },
  );

const blockedWorker = (mode: Mode): Scenario =>
  loaded(
    `d${mode.suffix}`,
    `a worker blocked in while(true) (--timeout 1, -w 2)${mode.label}`,
    { mode, workers: 2, start: () => startApp(...mode.args, '-w', '2', '--timeout', '1') },
    async (t, url) => {
      await request(`${url}/block`);
      const murder: LogLine = await t.waitForLog((l) => l.msg.startsWith('WORKER TIMEOUT'), 10_000);
      await t.waitForReady(1, t.logs.indexOf(murder));
      const held = murder['connections'] as number;
      // Behind the router a request written to the blocked worker is not retried (it may be what
      // blocked it): each gets the router's 504, logged; requests not yet written are retried.
      if (mode.router) {
        const notRetried = t.logs.filter((l) =>
          l.msg.startsWith('upstream killed for blocking its event loop'),
        ).length;
        return {
          allowed: notRetried,
          note: `${notRetried} request(s) written to the blocked worker got 504, the rest were retried`,
        };
      }
      return {
        allowed: held,
        note: `the blocked worker held ${held} connection(s), logged with its pid`,
      };
    },
  );

const memoryLeak = (mode: Mode): Scenario =>
  loaded(
    `e${mode.suffix}`,
    `a worker leaking memory past --reload-on-rss 120 (-w 2)${mode.label}`,
    {
      mode,
      workers: 2,
      start: () =>
        new Tsgun([
          fixture('leak.mjs'),
          ...mode.args,
          '-b',
          '127.0.0.1:0',
          '-w',
          '2',
          '--reload-on-rss',
          '120',
        ]),
    },
    async (t) => {
      await until(
        () =>
          t.logs.filter((l) => l.msg.startsWith('replacing worker: resident memory')).length >= 3,
        t,
        30_000,
      );
      return { note: 'three workers recycled for memory' };
    },
  );

const maxRequests = (mode: Mode): Scenario =>
  loaded(
    `f${mode.suffix}`,
    `--max-requests 50 (+ jitter 10) churn (-w 2)${mode.label}`,
    {
      mode,
      workers: 2,
      start: () =>
        startApp(...mode.args, '-w', '2', '--max-requests', '50', '--max-requests-jitter', '10'),
    },
    async (t) => {
      await until(() => t.logs.filter((l) => l.msg === 'worker exited').length >= 8, t, 30_000);
      return { note: '8 workers recycled' };
    },
  );

const ttinTtou = (mode: Mode): Scenario =>
  loaded(
    `g${mode.suffix}`,
    `TTIN/TTOU storms (-w 2)${mode.label}`,
    { mode, workers: 2, start: () => startApp(...mode.args, '-w', '2') },
    async (t) => {
      for (let round = 1; round <= 4; round++) {
        for (const sig of ['SIGTTIN', 'SIGTTOU'] as const) {
          const mark = t.logs.length;
          for (let i = 0; i < round + 1; i++) t.signal(sig);
          // Signals of one kind may merge in the kernel, so the count is not known: once the
          // burst is being handled, a USR1 sent after it marks its end in the master's queue.
          await t.waitForLog((l) => /^TT(IN|OU):/.test(l.msg), 10_000, mark);
          t.signal('SIGUSR1');
          await t.waitForLog((l) => l.msg === 'handling signal SIGUSR1', 10_000, mark);
          await until(() => {
            const booting = t.logs.filter((l) => l.msg === 'booting worker').length;
            const ready = t.logs.filter((l) => l.msg === 'worker ready').length;
            return booting === ready && t.liveWorkerPids().length === lastTarget(t);
          }, t);
        }
      }
      return { note: `ended at ${lastTarget(t)} workers, as the last TTIN/TTOU said` };
    },
  );

const termInFlight = (mode: Mode): Scenario => ({
  id: `h${mode.suffix}`,
  title: `TERM with 20 requests in flight (-w 2)${mode.label}`,
  async run() {
    const t = startApp(...mode.args, '-w', '2');
    try {
      await serving(t, mode, 2);
      const url = await t.url();
      const inflight = Array.from({ length: 20 }, () =>
        request(`${url}/slow?ms=400`).then(
          (r) => r.status === 200,
          () => false,
        ),
      );
      await until(
        () => t.logs.filter((l) => l.msg === 'fixture: slow request started').length >= 20,
        t,
      );
      t.signal('SIGTERM');
      const results = await Promise.all(inflight);
      const { code } = await t.exited;
      const ok = results.filter(Boolean).length;
      return {
        id: this.id,
        scenario: this.title,
        sent: 20,
        ok,
        failed: 20 - ok,
        allowed: 0,
        note: `master exited with ${code}`,
      };
    } finally {
      t.kill();
    }
  },
});

/** The scenarios run in direct mode and again with --router. */
const ALL_MODES = [
  hupStorm,
  usr2Upgrade,
  killWorkers,
  blockedWorker,
  memoryLeak,
  maxRequests,
  ttinTtou,
  termInFlight,
];

export const SCENARIOS: readonly Scenario[] = [
  ...ALL_MODES.map((s) => s(DIRECT)),
  ...ALL_MODES.map((s) => s(ROUTER)),
  // Two routers accepting on the same sockets: the reload and the kill, the faults they share.
  hupStorm(ROUTER2),
  killWorkers(ROUTER2),
  ...ROUTER_SCENARIOS,
];
