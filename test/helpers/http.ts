import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import * as net from 'node:net';
import { connect, createServer, type Socket } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export function request(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    agent?: Agent | false;
    socketPath?: string;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // https: test certificates are self-signed.
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        agent: opts.agent ?? false,
        rejectUnauthorized: false,
        ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
    req.end(opts.body);
  });
}

export async function getJson<T = Record<string, unknown>>(url: string, agent?: Agent): Promise<T> {
  const reply = await request(url, agent ? { agent } : {});
  if (reply.status !== 200) throw new Error(`GET ${url}: ${reply.status} ${reply.body}`);
  return JSON.parse(reply.body) as T;
}

/**
 * GETs the JSON at `url` (a --stats server) until `predicate` holds, and returns that document.
 * Workers and the router report once a second and nothing logs it: polled, bounded above.
 */
export async function statsWith<T>(
  url: string,
  predicate: (doc: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const doc = await getJson<T>(url);
    if (predicate(doc)) return doc;
    if (Date.now() > deadline) throw new Error(`stats never matched: ${JSON.stringify(doc)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LoopStats {
  sent: number;
  ok: number;
  failed: number;
  errors: string[];
  pids: Set<number>;
  /** TCP connections the keep-alive clients had to open (one each when none was ever closed). */
  keepAliveConnections: number;
}

/**
 * Concurrent clients sending GETs back to back until stop() (bounded by maxMs): half with
 * keep-alive agents, half opening a connection per request. Every non-200 or error is a failure.
 */
export function clientLoop(
  url: string,
  opts: { concurrency?: number; keepAlive?: 'both' | 'yes' | 'no'; maxMs?: number } = {},
) {
  const stats: LoopStats = {
    sent: 0,
    ok: 0,
    failed: 0,
    errors: [],
    pids: new Set(),
    keepAliveConnections: 0,
  };
  const concurrency = opts.concurrency ?? 4;
  let running = true;
  const deadline = Date.now() + (opts.maxMs ?? 60_000);
  const agents: Agent[] = [];
  const loops = Array.from({ length: concurrency }, async (_, i) => {
    const keepAlive = opts.keepAlive === 'yes' || (opts.keepAlive !== 'no' && i % 2 === 0);
    const agent = keepAlive
      ? url.startsWith('https:')
        ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false })
        : new Agent({ keepAlive: true, maxSockets: 1 })
      : false;
    if (agent) {
      agents.push(agent);
      const create = agent.createConnection.bind(agent);
      agent.createConnection = ((...args: Parameters<typeof create>) => {
        stats.keepAliveConnections++;
        return create(...args);
      }) as typeof agent.createConnection;
    }
    while (running && Date.now() < deadline) {
      stats.sent++;
      try {
        const reply = await request(url, { agent });
        if (reply.status === 200) {
          stats.ok++;
          const pid = (JSON.parse(reply.body) as { pid?: number }).pid;
          if (pid) stats.pids.add(pid);
        } else {
          stats.failed++;
          stats.errors.push(`status ${reply.status}`);
        }
      } catch (err) {
        stats.failed++;
        stats.errors.push((err as Error).message);
      }
    }
  });
  return {
    stats,
    async stop(): Promise<LoopStats> {
      running = false;
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return stats;
    },
  };
}

/** Open a TCP connection and send a raw request; resolves with everything the server sent. */
export function rawRequest(
  port: number,
  text: string,
): Promise<{ data: string; error: string | null; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(text));
    socket.on('data', (c: string) => {
      data += c;
    });
    socket.on('error', (err) =>
      resolve({ data, error: (err as NodeJS.ErrnoException).code ?? err.message, socket }),
    );
    socket.on('end', () => resolve({ data, error: null, socket }));
  });
}

/** The upgrade request for /ws that the ws-app fixture answers with 101. */
const WS_UPGRADE =
  'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/**
 * A WebSocket to /ws on 127.0.0.1, left open: resolves with the socket and the server's response
 * head once it has arrived whole.
 */
export function openWebSocket(port: number): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.write(WS_UPGRADE);
    const onData = (c: string) => {
      data += c;
      if (!data.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.off('error', reject);
      resolve({ socket, head: data });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

/**
 * A WebSocket handshake for /ws on 127.0.0.1 (the ws-app fixture, which echoes what it gets);
 * with `ping`, one message is sent once the server's head arrived, and awaited back. Resolves
 * with everything the server sent.
 */
export function webSocketHandshake(port: number, ping: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(WS_UPGRADE));
    socket.on('data', (c: string) => {
      data += c;
      const head = data.includes('\r\n\r\n');
      if (head && ping && !data.includes('ping')) socket.write('ping');
      if (head && (!ping || data.endsWith('ping'))) {
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', reject);
  });
}

/** A free port for an address given on a command line (stats, proxies): probed, then released. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Polls a URL until it answers 200 (for programs that have no readiness event: nginx, haproxy). */
export async function waitFor200(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await request(url)).status === 200) return;
    } catch {
      // Not accepting yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} never answered 200`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A bound (not listening) TCP socket on 127.0.0.1, as systemd (ListenStream=) or a shell passes it. */
export function boundTcpHandle(): { fd: number; port: number; close(): void } {
  const create = (
    net as unknown as {
      _createServerHandle: (
        a: string,
        p: number,
        t: number,
      ) => { fd: number; getsockname(o: Record<string, number>): number; close(): void };
    }
  )._createServerHandle;
  const handle = create('127.0.0.1', 0, 4);
  const out: Record<string, number> = {};
  handle.getsockname(out);
  return { fd: handle.fd, port: out['port']!, close: () => handle.close() };
}
