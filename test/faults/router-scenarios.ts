import { heldTcpConnections } from '../../src/master/host/proc-net.js';
import { request } from '../helpers/http.js';
import { startApp } from '../helpers/tsgun.js';
import {
  CONCURRENCY,
  type Figures,
  loaded,
  ROUTER,
  ROUTER2,
  type Scenario,
  serving,
  underLoad,
} from './load.js';

/** Faults only router mode has: a request the router must not repeat, a router that dies. */
export const ROUTER_SCENARIOS: readonly Scenario[] = [
  {
    id: 'i-r',
    title: `SIGKILL of a worker with a POST in flight (-w 2)${ROUTER.label}`,
    async run(): Promise<Figures> {
      const t = startApp(...ROUTER.args, '-w', '2');
      try {
        await serving(t, ROUTER, 2);
        const url = await t.url();
        let status = 0;
        const figures = await underLoad(t, '/', async () => {
          const mark = t.logs.length;
          const post = request(`${url}/slow?ms=5000`, { method: 'POST', body: 'x=1' });
          const started = await t.waitForLog(
            (l) => l.msg === 'fixture: slow request started',
            10_000,
            mark,
          );
          process.kill(started.pid, 'SIGKILL');
          const reply = await post;
          status = reply.status;
          // A request with a body is never sent twice: its client gets the router's JSON 502.
          const body = JSON.parse(reply.body) as { error?: string };
          if (status !== 502 || body.error !== 'bad gateway')
            throw new Error(`the POST got ${status} ${reply.body}, not a 502 JSON`);
          await t.waitForReady(1, mark);
          return { note: 'the POST got 502 JSON (a body is never sent twice); GETs lost nothing' };
        });
        // The POST is the one failure the kill takes.
        return {
          id: this.id,
          scenario: this.title,
          ...figures,
          sent: figures.sent + 1,
          failed: figures.failed + (status === 502 ? 1 : 0),
          allowed: 1,
        };
      } finally {
        t.kill();
      }
    },
  },
  loaded(
    'j-r2',
    `SIGKILL of a router process, twice (-w 2)${ROUTER2.label}`,
    { mode: ROUTER2, workers: 2, start: () => startApp(...ROUTER2.args, '-w', '2') },
    async (t) => {
      let held = 0;
      const killed = new Set<number>();
      for (let i = 0; i < 2; i++) {
        const victim = t.logs
          .filter((l) => l.msg === 'router ready')
          .map((l) => l['routerPid'] as number)
          .find((pid) => !killed.has(pid))!;
        killed.add(victim);
        const mark = t.logs.length;
        // Stopped, it accepts nothing more: /proc then counts what the kill cuts.
        process.kill(victim, 'SIGSTOP');
        held += heldTcpConnections(victim) ?? CONCURRENCY;
        process.kill(victim, 'SIGKILL');
        await t.waitForLog((l) => l.msg === 'router ready', 10_000, mark);
      }
      // The other router goes on accepting on the shared sockets; the killed one's client
      // connections (a keep-alive client's idle one included) go with it.
      return { allowed: held, note: `the killed routers held ${held} client connection(s)` };
    },
  ),
];
