import { freePort } from '../helpers/http.js';
import { startApp, type Tsgun } from '../helpers/tsgun.js';
import { type AttackCase, type Outcome, runCase } from './cases.js';

/** tsgun -w 1 with default limits and a stats server: what the cases are sent to. */
export async function startTarget(): Promise<{
  t: Tsgun;
  send: (c: AttackCase) => Promise<Outcome>;
}> {
  const statsPort = await freePort();
  const t = startApp('-w', '1', '--stats', `127.0.0.1:${statsPort}`);
  await t.waitForReady(1);
  const port = await t.port();
  return { t, send: (c) => runCase(c.target === 'app' ? port : statsPort, c.raw) };
}

/** Whether an outcome is the one the case expects: its status, one response, then a close. */
export function passes(c: AttackCase, o: Outcome): boolean {
  return o.status === c.status && o.responses === 1 && o.closed;
}
