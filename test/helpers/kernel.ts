import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { getJson, rawRequest } from './http.js';
import type { Tsgun } from './tsgun.js';

/** A listening TCP port's queues (ss): Recv-Q = connections waiting to be accepted, Send-Q = backlog. */
export function listenQueue(port: number): { recvQ: number; sendQ: number } {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const [, recvQ, sendQ] = out.split(/\s+/);
  return { recvQ: Number(recvQ), sendQ: Number(sendQ) };
}

/**
 * Bytes the server's end of an established connection (server `port`, client `local`) has not
 * read yet (ss Recv-Q); NaN while ss does not list the connection.
 */
export function unreadBytes(port: number, local: number): number {
  const filter = `( sport = :${port} and dport = :${local} )`;
  const out = execFileSync('ss', ['-tnH', 'state', 'established', filter], { encoding: 'utf8' });
  // No line yet: not known to be read (Number('') would say 0).
  const [recvQ = ''] = out.trim().split(/\s+/);
  return recvQ === '' ? Number.NaN : Number(recvQ);
}

/** Polls kernel state (there is no event for it) until the accept queue holds n connections. */
export async function waitForQueue(port: number, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (listenQueue(port).recvQ !== n) {
    if (Date.now() > deadline)
      throw new Error(`accept queue is ${listenQueue(port).recvQ}, expected ${n}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const GET_CLOSE = 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

/**
 * tsgun with `-w 1 --timeout 0` serving a fixture with `/block`: block the only worker, queue 10
 * connections in the kernel, SIGKILL the worker; every queued connection must be answered by its
 * replacement (the socket outlives the worker). Resolves with the killed worker's pid.
 */
export async function killWithQueuedConnections(t: Tsgun): Promise<number> {
  const [ready] = await t.waitForReady(1);
  const port = await t.port();
  const oldPid = ready!['workerPid'] as number;
  await getJson(`http://127.0.0.1:${port}/block`);
  await t.waitForLog((l) => l.msg === 'fixture: blocking');
  const queued = Array.from({ length: 10 }, () => rawRequest(port, GET_CLOSE));
  await waitForQueue(port, 10);
  process.kill(oldPid, 'SIGKILL');
  for (const r of await Promise.all(queued)) {
    assert.equal(r.error, null, 'a queued connection was reset or refused');
    assert.match(r.data, /^HTTP\/1\.1 200/);
    const pid = (JSON.parse(r.data.split('\r\n\r\n')[1]!) as { pid: number }).pid;
    assert.notEqual(pid, oldPid);
  }
  return oldPid;
}
