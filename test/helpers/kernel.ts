import { execFileSync } from 'node:child_process';

/** A listening TCP port's queues (ss): Recv-Q = connections waiting to be accepted, Send-Q = backlog. */
export function listenQueue(port: number): { recvQ: number; sendQ: number } {
  const out = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const [, recvQ, sendQ] = out.split(/\s+/);
  return { recvQ: Number(recvQ), sendQ: Number(sendQ) };
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
