import { freePort } from '../helpers/http.js';
import { startApp, type Tsgun } from '../helpers/tsgun.js';
import {
  type AttackCase,
  appSeesWrong,
  expected,
  type Mode,
  type Outcome,
  runCase,
} from './cases.js';

/**
 * tsgun -w 1 with default limits and a stats server, direct or --router: what the cases are sent
 * to. The test peer (127.0.0.1) is not in --forwarded-allow-ips, so it is an untrusted client.
 */
export async function startTarget(mode: Mode): Promise<{
  t: Tsgun;
  send: (c: AttackCase) => Promise<Outcome>;
}> {
  const statsPort = await freePort();
  const t = startApp(
    '-w',
    '1',
    '--stats',
    `127.0.0.1:${statsPort}`,
    '--forwarded-allow-ips',
    '192.0.2.1',
    // On stdout: the suite checks that no smuggled request ever reached the app.
    '--access-logfile',
    '-',
    ...(mode === 'router' ? ['--router'] : []),
  );
  await t.waitForReady(1);
  if (mode === 'router') {
    await t.waitForLog((l) => l.role === 'router' && /^routing to 1 /.test(l.msg));
    // The worker list may reach the router before it accepts (it listens once its boot is done).
    await t.waitForLog((l) => l.role === 'router' && l.msg === 'router accepting');
  }
  const port = await t.port();
  return { t, send: (c) => runCase(c.target === 'app' ? port : statsPort, c.raw) };
}

/** What is wrong with an outcome (empty: it is the one the case expects in `mode`). */
export function failures(c: AttackCase, mode: Mode, o: Outcome): string[] {
  const want = expected(c, mode);
  const wrong: string[] = [];
  if (o.status !== want.status) wrong.push(`status ${o.status} (expected ${want.status})`);
  if (o.responses > 1)
    wrong.push(`${o.responses - 1} more response(s): a smuggled request was answered`);
  if (!o.closed) wrong.push('the connection stayed open');
  return [...wrong, ...appSeesWrong(want.appSees, o)];
}
