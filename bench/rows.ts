/** The benchmark rows: each server under test, how to start it, and the shared conditions. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** This checkout's tsgun, as every tsgun row runs it. */
const TSGUN_BIN = join(ROOT, 'bin/tsgun');
export const PATH = '/v1/channels/bench/events';

export const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
export const pinning = has('taskset') && cpus().length >= 2;
export const pin = (cpu: number, cmd: string[]) =>
  pinning ? ['taskset', '-c', String(cpu), ...cmd] : cmd;

export interface RowDef {
  readonly id: string;
  readonly label: string;
  /** Clients keep connections open (the reference is no keep-alive: every request connects). */
  readonly keepAlive?: boolean;
  /** Measured with h2load over h2c (prior knowledge) instead of wrk. */
  readonly h2?: boolean;
  /** Only run when named (--compare, --only): not a row of the table. */
  readonly onDemand?: boolean;
  /** The server command, or the reason the row is skipped. */
  command(port: number): RowCommand | string;
}

export interface RowCommand {
  readonly argv: string[];
  readonly env?: NodeJS.ProcessEnv;
  /**
   * A client process run beside the server for as long as it lives (on the load generators' CPU:
   * its own work is not the server's): prints `ready` when its load is on, and one JSON line of
   * counts on SIGTERM.
   */
  readonly companion?: string[];
}

/** gevent must be importable by the Python that gunicorn runs on (its shebang), not any python3. */
export function gunicornHasGevent(): boolean {
  if (!has('gunicorn')) return false;
  const path = execFileSync('sh', ['-c', 'command -v gunicorn'], { encoding: 'utf8' }).trim();
  const python =
    /^#!\s*(\S+)/.exec(readFileSync(path, 'utf8').split('\n')[0] ?? '')?.[1] ?? 'python3';
  return spawnSync(python, ['-c', 'import gevent']).status === 0;
}
export const pm2Runtime = join(ROOT, 'bench/.tools/node_modules/.bin/pm2-runtime');
export const uwsgiArgs = (mode: '--http' | '--http-socket', port: number) => [
  'uwsgi',
  '--plugins',
  'http,python3,gevent_python3',
  mode,
  `127.0.0.1:${port}`,
  '--wsgi-file',
  join(ROOT, 'bench/python/eventqueue.py'),
  '--callable',
  'app',
  '--gevent',
  '2000',
  '-l',
  '1000',
  '-p',
  '1',
  '--disable-logging',
  '--master',
];

/** A Node server script of bench/servers, told its port in $PORT. */
const nodeScript = (file: string) => (port: number) => ({
  argv: [process.execPath, join(ROOT, file)],
  env: { PORT: String(port) },
});

/** An HTTP/2 row's command, or why it is skipped: h2load measures it. */
const withH2load =
  (command: RowDef['command']): RowDef['command'] =>
  (port) =>
    has('h2load') ? command(port) : 'h2load not installed: apt-get install nghttp2-client';

/** A fresh path for a stats unix socket. */
const statsSocket = () => join(mkdtempSync(join(tmpdir(), 'tsgun-stats-')), 'stats.sock');

/** --stats on a unix socket of its own (the stats rows). */
const statsArgs = (socket = statsSocket()) => ['--stats', `unix:${socket}`];

/** The reference conditions: one worker, backlog 1000, 2000 connections, access log off. */
export const tsgunArgv = (port: number, ...extra: string[]) =>
  tsgunAppArgv(join(ROOT, 'examples/event-queue/app.js'), port, ...extra);

/** The same conditions for another app module. */
export const tsgunAppArgv = (app: string, port: number, ...extra: string[]) => [
  process.execPath,
  TSGUN_BIN,
  app,
  ...['-w', '1', '--backlog', '1000', '--worker-connections', '2000', '--log-level', 'error'],
  ...['-b', `127.0.0.1:${port}`, ...extra],
];

/**
 * HAProxy (`mode tcp`) on the row's port in front of tsgun in the reference conditions
 * (bench/servers/haproxy-front.mjs); `header`: HAProxy sends a PROXY header (`send-proxy`) and
 * tsgun reads it (--proxy-protocol). The pair of rows prices --proxy-protocol alone.
 */
const behindHaproxy =
  (header: boolean): RowDef['command'] =>
  (port) =>
    has('haproxy')
      ? {
          argv: [
            process.execPath,
            join(ROOT, 'bench/servers/haproxy-front.mjs'),
            // At info, tsgun logs the port it bound ('listening at'), which the front reads.
            ...tsgunArgv(0, '--log-level', 'info', ...(header ? ['--proxy-protocol'] : [])),
          ],
          env: {
            PORT: String(port),
            ...(header ? { SEND_PROXY: '1' } : {}),
            ...(pinning ? { HAPROXY_CPU: '1' } : {}),
          },
        }
      : 'haproxy not installed: apt-get install haproxy';

/** A row's command with another built checkout's bin/tsgun in place of this one's. */
export const fromCheckout =
  (dir: string, command: RowDef['command']): RowDef['command'] =>
  (port) => {
    const c = command(port);
    if (typeof c === 'string') return c;
    return { ...c, argv: c.argv.map((a) => (a === TSGUN_BIN ? join(dir, 'bin/tsgun') : a)) };
  };

export const ROWS: readonly RowDef[] = [
  {
    id: 'tsgun',
    label: 'tsgun -w 1 --backlog 1000 --worker-connections 2000',
    command: (port) => ({ argv: tsgunArgv(port) }),
  },
  {
    // The same row from another built checkout (say the commit before a change), for an A/B of
    // two tsguns: `TSGUN_BENCH_BASELINE=DIR npm run bench -- --compare tsgun-baseline,tsgun`.
    id: 'tsgun-baseline',
    onDemand: true,
    label: 'tsgun of $TSGUN_BENCH_BASELINE, in the reference conditions',
    command: (port) => {
      const dir = process.env['TSGUN_BENCH_BASELINE'];
      if (!dir) return 'TSGUN_BENCH_BASELINE is not set (a built checkout to compare with)';
      return fromCheckout(dir, (p) => ({ argv: tsgunArgv(p) }))(port);
    },
  },
  {
    // The bare Node server file, unchanged: it calls listen({ port: $PORT, ... }) itself.
    id: 'tsgun-listen',
    label: 'tsgun, same, the bare Node server file run unchanged (app calls listen())',
    command: (port) => ({ argv: tsgunAppArgv(join(ROOT, 'bench/servers/bare.mjs'), port) }),
  },
  {
    id: 'tsgun-stats',
    label: 'tsgun, same, with --stats (per-request counters on)',
    command: (port) => ({ argv: tsgunArgv(port, ...statsArgs()) }),
  },
  {
    // Issue 32's cost: one open dashboard page (bench/dashboard-client.ts) for the whole run.
    id: 'tsgun-stats-dashboard',
    label: 'tsgun, same, with --stats and a dashboard page open on it (polling / and /events)',
    command: (port) => {
      const socket = statsSocket();
      return {
        argv: tsgunArgv(port, ...statsArgs(socket)),
        companion: [process.execPath, join(ROOT, 'dist/bench/dashboard-client.js'), socket],
      };
    },
  },
  {
    id: 'tsgun-statsd',
    label: 'tsgun, same, with --stats and --statsd-host (a timer per request over UDP)',
    // Statsd to the discard port, which nothing listens on here: the sender's cost is the same.
    command: (port) => ({
      argv: tsgunArgv(port, ...statsArgs(), '--statsd-host', '127.0.0.1:9'),
    }),
  },
  {
    id: 'tsgun-haproxy',
    label: 'tsgun, same, behind HAProxy mode tcp (the PROXY protocol baseline)',
    command: behindHaproxy(false),
  },
  {
    id: 'tsgun-haproxy-pp',
    label: 'tsgun --proxy-protocol, same, behind HAProxy mode tcp with send-proxy',
    command: behindHaproxy(true),
  },
  {
    // The same pair with keep-alive clients: the header is read once per connection.
    id: 'tsgun-haproxy-ka',
    onDemand: true,
    label: 'tsgun behind HAProxy mode tcp, keep-alive clients',
    keepAlive: true,
    command: behindHaproxy(false),
  },
  {
    id: 'tsgun-haproxy-pp-ka',
    onDemand: true,
    label: 'tsgun --proxy-protocol behind HAProxy mode tcp with send-proxy, keep-alive clients',
    keepAlive: true,
    command: behindHaproxy(true),
  },
  {
    id: 'tsgun-router',
    label: 'tsgun --router (router process + 1 worker), same',
    command: (port) => ({ argv: tsgunArgv(port, '--router') }),
  },
  {
    id: 'tsgun-router2',
    label: 'tsgun --router --router-processes 2, same',
    command: (port) => ({ argv: tsgunArgv(port, '--router', '--router-processes', '2') }),
  },
  {
    id: 'tsgun-ka',
    label: 'tsgun, same, keep-alive clients',
    keepAlive: true,
    command: (port) => ({ argv: tsgunArgv(port) }),
  },
  {
    id: 'tsgun-router-ka',
    label: 'tsgun --router, same, keep-alive clients',
    keepAlive: true,
    command: (port) => ({ argv: tsgunArgv(port, '--router') }),
  },
  {
    id: 'tsgun-router2-ka',
    label: 'tsgun --router --router-processes 2, same, keep-alive clients',
    keepAlive: true,
    command: (port) => ({ argv: tsgunArgv(port, '--router', '--router-processes', '2') }),
  },
  {
    id: 'proxy3-ka',
    label: 'minimal http-proxy-3 proxy + bare Node, keep-alive clients (router baseline)',
    keepAlive: true,
    command: nodeScript('bench/servers/proxy3.mjs'),
  },
  {
    id: 'proxy3',
    label: 'minimal http-proxy-3 proxy + bare Node (router baseline)',
    command: nodeScript('bench/servers/proxy3.mjs'),
  },
  {
    id: 'undici',
    label: 'minimal undici Pool proxy + bare Node (router baseline)',
    command: nodeScript('bench/servers/undici.mjs'),
  },
  {
    id: 'undici-ka',
    label: 'minimal undici Pool proxy + bare Node, keep-alive clients (router baseline)',
    keepAlive: true,
    command: nodeScript('bench/servers/undici.mjs'),
  },
  {
    id: 'proxy3-fetch',
    label: 'minimal http-proxy-3 proxy on its fetch path (undici Agent dispatcher) + bare Node',
    command: nodeScript('bench/servers/proxy3-fetch.mjs'),
  },
  {
    id: 'proxy3-fetch-ka',
    label:
      'minimal http-proxy-3 proxy on its fetch path (undici Agent dispatcher) + bare Node, keep-alive clients',
    keepAlive: true,
    command: nodeScript('bench/servers/proxy3-fetch.mjs'),
  },
  {
    id: 'nodehttp',
    label: 'minimal http.request proxy (keep-alive http.Agent) + bare Node',
    command: nodeScript('bench/servers/node-http.mjs'),
  },
  {
    id: 'nodehttp-ka',
    label: 'minimal http.request proxy (keep-alive http.Agent) + bare Node, keep-alive clients',
    keepAlive: true,
    command: nodeScript('bench/servers/node-http.mjs'),
  },
  {
    id: 'tsgun-router-h2',
    label: 'tsgun --router --http2 (router process + 1 worker), h2load h2c clients',
    h2: true,
    command: withH2load((port) => ({ argv: tsgunArgv(port, '--router', '--http2') })),
  },
  {
    // Direct mode: the worker's own h2c front (src/worker/h2-direct.ts), the app on Node's http2
    // compat API, against node-h2 (the same app on a bare Node http2 server).
    id: 'tsgun-h2',
    label: 'tsgun --http2 (1 worker, direct mode), h2load h2c clients',
    h2: true,
    command: withH2load((port) => ({ argv: tsgunArgv(port, '--http2') })),
  },
  {
    id: 'node-h2',
    label: 'bare Node http2 compat server (1 process), h2load h2c clients',
    h2: true,
    command: withH2load(nodeScript('bench/servers/h2-bare.mjs')),
  },
  {
    id: 'h2proxy',
    label: 'minimal Node http2-to-HTTP/1.1 proxy (undici Pool) + bare Node, h2load h2c clients',
    h2: true,
    command: withH2load(nodeScript('bench/servers/h2-undici.mjs')),
  },
  {
    id: 'node',
    label: 'bare Node http.createServer (1 process)',
    command: nodeScript('bench/servers/bare.mjs'),
  },
  {
    id: 'node-ka',
    label: 'bare Node http.createServer (1 process), keep-alive clients',
    keepAlive: true,
    command: nodeScript('bench/servers/bare.mjs'),
  },
  {
    id: 'cluster',
    label: 'Node cluster, 1 worker, round-robin',
    command: nodeScript('bench/servers/cluster.mjs'),
  },
  {
    id: 'pm2',
    label: 'PM2 cluster mode -i 1 (pm2-runtime)',
    command: (port) =>
      existsSync(pm2Runtime)
        ? {
            argv: [pm2Runtime, 'start', join(ROOT, 'bench/servers/pm2-app.cjs'), '-i', '1'],
            env: { PORT: String(port), PM2_HOME: mkdtempSync(join(tmpdir(), 'pm2-')) },
          }
        : 'PM2 not installed: run bench/setup.sh',
  },
  {
    id: 'gunicorn',
    label: 'Gunicorn -w 1 -k gevent --worker-connections 2000 --backlog 1000',
    command: (port) =>
      gunicornHasGevent()
        ? {
            argv: [
              'gunicorn',
              '-b',
              `127.0.0.1:${port}`,
              '-w',
              '1',
              '-k',
              'gevent',
              '--worker-connections=2000',
              '--backlog=1000',
              '--log-level=critical',
              '--chdir',
              join(ROOT, 'bench/python'),
              'eventqueue:app',
            ],
          }
        : 'gunicorn or python3-gevent not installed: run bench/setup.sh',
  },
  {
    id: 'uwsgi-http',
    label: 'uWSGI --http (router) --gevent 2000 -l 1000 -p 1',
    command: (port) =>
      has('uwsgi')
        ? { argv: uwsgiArgs('--http', port) }
        : 'uwsgi not installed: run bench/setup.sh',
  },
  {
    id: 'uwsgi-socket',
    label: 'uWSGI --http-socket --gevent 2000 -l 1000 -p 1',
    command: (port) =>
      has('uwsgi')
        ? { argv: uwsgiArgs('--http-socket', port) }
        : 'uwsgi not installed: run bench/setup.sh',
  },
];
