/**
 * `npm run bench:held`: what a slow-client attack costs a worker. Starts tsgun -w 1, opens N
 * connections of each kind that only hold a slot (slowloris: a request line and one header, never
 * finished; idle keep-alive: one request answered, then silence) and reports the worker's resident
 * memory per held connection. Kernel socket buffers are not in RSS and come on top.
 *
 *   --count N   connections of each kind (default 1000; --worker-connections is set above it)
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from '../test/helpers/http.js';
import { killAll, startApp } from '../test/helpers/tsgun.js';

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return Number(line?.[1] ?? 0);
}

/** RSS once it stops moving: the worker has parsed what the connections sent. */
async function settledRss(pid: number): Promise<number> {
  let last = rssKiB(pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = rssKiB(pid);
    if (Math.abs(now - last) < 64) return now;
    last = now;
  }
  return last;
}

function open(port: number, text: string, waitForAnswer: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(text);
      if (!waitForAnswer) resolve(socket);
    });
    socket.once('data', () => resolve(socket));
    socket.on('error', reject);
  });
}

async function measureKind(
  kind: string,
  count: number,
  text: string,
  waitForAnswer: boolean,
): Promise<number> {
  const t = startApp('-w', '1', '--worker-connections', String(count * 2), '--keep-alive', '600');
  try {
    await t.waitForReady(1);
    const port = await t.port();
    const url = await t.url();
    const pid = t.liveWorkerPids()[0]!;
    for (let i = 0; i < 200; i++) await request(`${url}/`);
    const before = await settledRss(pid);
    const held: Socket[] = [];
    for (let i = 0; i < count; i += 50)
      held.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(50, count - i) }, () => open(port, text, waitForAnswer)),
        )),
      );
    const afterRss = await settledRss(pid);
    const perConn = ((afterRss - before) * 1024) / count;
    console.log(
      `${kind}: ${count} held connections, worker RSS ${before} -> ${afterRss} KiB: ${(perConn / 1024).toFixed(1)} KiB each`,
    );
    for (const s of held) s.destroy();
    return perConn;
  } finally {
    t.kill();
  }
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--count');
  const count = i >= 0 ? Number(process.argv[i + 1]) : 1000;
  const loris = await measureKind(
    'slowloris',
    count,
    'GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: 1\r\n',
    false,
  );
  const idle = await measureKind(
    'idle keep-alive',
    count,
    'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
    true,
  );
  console.log(
    JSON.stringify({
      count,
      slowlorisBytes: Math.round(loris),
      idleKeepAliveBytes: Math.round(idle),
    }),
  );
  killAll();
}

main().catch((err: unknown) => {
  killAll();
  console.error(err);
  process.exit(1);
});
