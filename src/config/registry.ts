import { MAX_WORKERS } from '../ipc/control.js';
import { compileFormat } from '../log/access-format.js';
import { LOG_LEVELS } from '../log/levels.js';
import { LOG_FORMATS } from '../log/pretty.js';
import { nodeRequire } from '../node-require.js';
import { type BindAddress, duplicateBind, formatBindAddress, parseBindAddress } from './address.js';
import { type AppSpec, formatAppSpec, parseAppSpec } from './app-spec.js';
import {
  bool,
  fraction,
  int,
  keyValues,
  list,
  nullable,
  octal,
  oneOf,
  type Parser,
  seconds,
  secondsOrOff,
  string,
} from './parsers.js';
import { formatRoute, parseAllowIp, parseRoute, type RouteEntry } from './route.js';

/** node-cron, loaded the first time a --cron is read (most starts have none: a faster start). */
const cronValidate = (spec: string): boolean =>
  (nodeRequire('node-cron') as typeof import('node-cron')).validate(spec);

export const STICKY_MODES = ['cookie', 'ip'] as const;
export type StickyMode = (typeof STICKY_MODES)[number];

/** A server hook from the config file (Gunicorn's, in camelCase). May return a promise. */
export type Hook = (...args: never[]) => unknown;

/** `--cron "SPEC ACTION"`: a 5- or 6-field cron expression and what the master does then. */
export interface CronEntry {
  readonly spec: string;
  readonly action:
    | { readonly kind: 'reload' }
    | { readonly kind: 'restart-workers' }
    | { readonly kind: 'exec'; readonly command: string };
}

export const SECTIONS = [
  'App',
  'Server socket',
  'Worker processes',
  'Security',
  'Server mechanics',
  'TLS',
  'Router',
  'Logging',
  'Stats',
  'Scheduled jobs',
  'Development',
  'Server hooks',
  'Debugging',
] as const;
export type Section = (typeof SECTIONS)[number];

export type Env = Readonly<Record<string, string | undefined>>;

export interface SettingSpec<T> {
  readonly section: Section;
  /** CLI flags, short first: ['-w', '--workers']. Empty for the positional APP. */
  readonly flags: readonly string[];
  /** Placeholder shown in --help; absent for boolean switches. */
  readonly arg?: string;
  /** Switches that only make sense on a command line (--check-config) have no file/env form. */
  readonly cliOnly?: boolean;
  /** Only a config file can give it (functions: the server hooks). */
  readonly fileOnly?: boolean;
  readonly repeatable?: boolean;
  readonly default: NoInfer<T> | ((env: Env) => NoInfer<T>);
  /** How the default reads in --help and docs/settings.md when it is computed. */
  readonly defaultDoc?: string;
  readonly parse: Parser<T>;
  format?(value: T): unknown;
  readonly help: string;
  /** Whether a HUP may change it (re-read by new workers) or it needs a restart. */
  readonly hup: boolean;
}

/** A declaration and what the registry derives from the setting's name. */
export interface SettingDef<T> extends SettingSpec<T> {
  /**
   * Environment variable read for this setting (besides TSGUN_CMD_ARGS): TSGUN_ and the name in
   * upper snake case, for every setting that is neither CLI-only nor file-only.
   */
  readonly env?: string;
}

const positive = int({ min: 1 });
const workerCount = int({ min: 1, max: MAX_WORKERS });

const hook: Parser<Hook | null> = (value) => {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'function') throw new Error(`expected a function, got ${typeof value}`);
  return value as Hook;
};

/**
 * Gunicorn's server hooks, config-file only: the process that runs each (its first word: the
 * master, or each worker, which imports the config file again since functions do not cross IPC),
 * when, and what it gets.
 */
const HOOKS = {
  onStarting:
    'master, before the sockets are bound: (server). Throwing, or not settling within --startup-timeout, aborts the start (exit 2).',
  onReload: 'master, on HUP: (server).',
  whenReady: 'master, once, when the first workers are all ready: (server).',
  preFork: 'master, before a worker is forked: (server, worker).',
  postFork: 'master, after a worker is forked: (server, worker).',
  postWorkerInit: 'worker, after the app is loaded, before it accepts: (worker).',
  workerInt: 'worker, on INT or QUIT, before it exits: (worker).',
  workerAbort: 'worker, on ABRT (a heartbeat timeout), if its loop can still run: (worker).',
  preExec: 'master, before a USR2 upgrade starts the new master: (server).',
  childExit: 'master, after a worker exited: (server, worker).',
  workerExit: 'worker, just before it exits: (worker).',
  nworkersChanged:
    'master, when the worker count changes (TTIN, TTOU, HUP): (server, newValue, oldValue).',
  onExit: 'master, just before it exits: (server).',
  preRequest: 'worker, before the app sees a request: (worker, req).',
  postRequest: 'worker, after a response finished: (worker, req, res).',
} as const;
export type HookName = keyof typeof HOOKS;
/** The hooks a worker runs itself (the master runs the rest). */
export type WorkerHookName = {
  [K in HookName]: (typeof HOOKS)[K] extends `worker,${string}` ? K : never;
}[HookName];
export const HOOK_NAMES = Object.keys(HOOKS) as HookName[];
export const WORKER_HOOKS = HOOK_NAMES.filter((name): name is WorkerHookName =>
  HOOKS[name].startsWith('worker,'),
);

function hookSettings(): { readonly [K in HookName]: SettingSpec<Hook | null> } {
  const defs = {} as Record<HookName, SettingSpec<Hook | null>>;
  for (const name of HOOK_NAMES) {
    defs[name] = {
      section: 'Server hooks',
      flags: [],
      fileOnly: true,
      default: null,
      parse: hook,
      format: (v) => (v === null ? null : '[function]'),
      help: `Hook in the ${HOOKS[name]}`,
      hup: true,
    };
  }
  return defs;
}

/** `SPEC ACTION`: the action is the last word; the spec (5 or 6 fields) is everything before. */
export function parseCron(text: string): CronEntry {
  const words = text.trim().split(/\s+/);
  const actionIndex = words.findIndex(
    (w, i) => i >= 5 && (w === 'reload' || w === 'restart-workers' || w.startsWith('exec:')),
  );
  if (actionIndex < 0)
    throw new Error(
      `expected "SPEC ACTION" with ACTION reload, restart-workers or exec:COMMAND, got ${JSON.stringify(text)}`,
    );
  const spec = words.slice(0, actionIndex).join(' ');
  if (actionIndex > 6 || !cronValidate(spec))
    throw new Error(`invalid cron expression ${JSON.stringify(spec)} in ${JSON.stringify(text)}`);
  const word = words[actionIndex]!;
  if (word.startsWith('exec:')) {
    const command = [word.slice(5), ...words.slice(actionIndex + 1)].join(' ').trim();
    if (!command) throw new Error(`exec: needs a command in ${JSON.stringify(text)}`);
    return { spec, action: { kind: 'exec', command } };
  }
  if (actionIndex !== words.length - 1)
    throw new Error(`unexpected text after ${word} in ${JSON.stringify(text)}`);
  return { spec, action: { kind: word as 'reload' | 'restart-workers' } };
}
const nonNegative = int({ min: 0 });

/** A bind address of the kinds `ok` accepts; any other is an error that says `expected`. */
function addressWhere(ok: (a: BindAddress) => boolean, expected: string): Parser<BindAddress> {
  return (value) => {
    const address = parseBindAddress(string(value));
    if (!ok(address)) throw new Error(`expected ${expected}`);
    return address;
  };
}

/** The one rule from a setting's name to its variable: workerConnections -> TSGUN_WORKER_CONNECTIONS. */
export function envName(name: string): string {
  return `TSGUN_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** One setting: its value type is inferred from its parser, the only place it is stated. */
function setting<T>(spec: SettingSpec<T>): SettingSpec<T> {
  return spec;
}

/** A setting's value type: what its parser returns. */
type ValueOf<S> = S extends { readonly parse: Parser<infer T> } ? T : never;
type Defs<R> = { readonly [K in keyof R]: SettingDef<ValueOf<R[K]>> };

/** Adds what each setting's name decides: its environment variable. */
function defineRegistry<R>(specs: R): Defs<R> {
  const defs: Record<string, SettingDef<unknown>> = {};
  for (const [name, spec] of Object.entries(specs as object) as [string, SettingSpec<unknown>][])
    defs[name] = spec.cliOnly || spec.fileOnly ? spec : { ...spec, env: envName(name) };
  return defs as Defs<R>;
}

/** --forwarded-allow-ips by default: the peers on this host (Gunicorn's default and ::1). */
const LOCAL_PEERS: readonly string[] = ['127.0.0.1', '::1'];

export const REGISTRY = defineRegistry({
  app: setting<AppSpec | null>({
    section: 'App',
    flags: [],
    arg: 'APP',
    default: null,
    parse: nullable((v) => parseAppSpec(string(v))),
    format: (v) => (v === null ? null : formatAppSpec(v)),
    help: 'The app: path/to/module[:export], or module:factory() to call a factory (may be async).',
    hup: true,
  }),
  config: setting({
    section: 'App',
    flags: ['-c', '--config'],
    arg: 'PATH',
    default: null,
    parse: nullable(string),
    help: 'A config file (.json, .js, .mjs, .cjs) whose keys are setting names, or a PM2 ecosystem file (an apps list).',
    hup: true,
  }),
  only: setting({
    section: 'App',
    flags: ['--only'],
    arg: 'NAME',
    cliOnly: true,
    default: null,
    parse: nullable(string),
    help: 'With a PM2 ecosystem file as APP (or --config) naming several apps: the one to run.',
    hup: false,
  }),
  bind: setting<readonly BindAddress[]>({
    section: 'Server socket',
    flags: ['-b', '--bind'],
    arg: 'ADDRESS',
    repeatable: true,
    default: (env) => [
      env['PORT'] ? parseBindAddress(`0.0.0.0:${env['PORT']}`) : parseBindAddress('127.0.0.1:8000'),
    ],
    defaultDoc:
      "0.0.0.0:$PORT when PORT is set; else the address the app's listen() asks for, bound on demand (127.0.0.1:8000 for an exported app, and with --router)",
    parse: (v) => {
      const specs = list(string)(v);
      const items = specs.map((spec) => parseBindAddress(spec));
      if (items.length === 0) throw new Error('expected at least one address');
      const duplicate = duplicateBind(specs);
      if (duplicate) throw new Error(`${duplicate}: each address is bound once`);
      return items;
    },
    format: (v) => v.map(formatBindAddress),
    help: 'Address to bind, repeatable: HOST:PORT, :PORT, [::1]:PORT, unix:PATH, fd://N.',
    hup: false,
  }),
  backlog: setting({
    section: 'Server socket',
    flags: ['--backlog'],
    arg: 'INT',
    default: 2048,
    parse: int({ min: 1, max: 65535 }),
    help: 'Listen queue length passed to listen(2); the kernel caps it at net.core.somaxconn.',
    hup: false,
  }),
  workers: setting({
    section: 'Worker processes',
    flags: ['-w', '--workers'],
    arg: 'INT|auto',
    default: (env) => (env['WEB_CONCURRENCY'] ? workerCount(env['WEB_CONCURRENCY']) : 1),
    defaultDoc: '$WEB_CONCURRENCY, else 1',
    parse: (v) =>
      typeof v === 'string' && v.trim().toLowerCase() === 'auto' ? 'auto' : workerCount(v),
    help: `Number of worker processes (1-${MAX_WORKERS}), or auto (the CPU quota of the container). TTIN/TTOU change it while running.`,
    hup: true,
  }),
  shutdownDelay: setting({
    section: 'Worker processes',
    flags: ['--shutdown-delay'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'On TERM, /readyz turns 503 at once and workers keep serving this long (load balancers deregister), then the graceful stop.',
    hup: true,
  }),
  workerConnections: setting({
    section: 'Worker processes',
    flags: ['--worker-connections'],
    arg: 'INT',
    default: 1000,
    parse: positive,
    help: 'Open connections a worker holds before it stops accepting (the rest wait in the queue).',
    hup: true,
  }),
  timeout: setting({
    section: 'Worker processes',
    flags: ['-t', '--timeout'],
    arg: 'SECONDS',
    default: 30,
    // Below a second the heartbeat (a quarter of it, at least 50 ms) cannot arrive in time and
    // every worker is killed as it boots.
    parse: secondsOrOff(1),
    help: 'Heartbeat timeout: a worker whose event loop is blocked this long is killed (at least 1). 0 = off.',
    hup: true,
  }),
  gracefulTimeout: setting({
    section: 'Worker processes',
    flags: ['--graceful-timeout'],
    arg: 'SECONDS',
    default: 30,
    parse: seconds(),
    help: 'How long a stopping worker may finish in-flight requests before SIGKILL.',
    hup: true,
  }),
  keepAlive: setting({
    section: 'Worker processes',
    flags: ['--keep-alive'],
    arg: 'SECONDS',
    default: 5,
    parse: seconds(),
    help: 'Seconds an idle keep-alive connection stays open. 0 disables keep-alive.',
    hup: true,
  }),
  maxRequests: setting({
    section: 'Worker processes',
    flags: ['--max-requests'],
    arg: 'INT',
    default: 0,
    parse: nonNegative,
    help: 'Replace a worker gracefully after this many requests. 0 = never.',
    hup: true,
  }),
  maxRequestsJitter: setting({
    section: 'Worker processes',
    flags: ['--max-requests-jitter'],
    arg: 'INT',
    default: 0,
    parse: nonNegative,
    help: 'Add a random 0..N to each worker max-requests so workers do not recycle together.',
    hup: true,
  }),
  maxWorkerLifetime: setting({
    section: 'Worker processes',
    flags: ['--max-worker-lifetime'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'Replace a worker gracefully after it has run this long. 0 = never.',
    hup: true,
  }),
  maxWorkerLifetimeJitter: setting({
    section: 'Worker processes',
    flags: ['--max-worker-lifetime-jitter'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'Add a random 0..S to each worker lifetime so workers do not recycle together.',
    hup: true,
  }),
  reloadOnRss: setting({
    section: 'Worker processes',
    flags: ['--reload-on-rss'],
    arg: 'MB',
    default: 0,
    parse: int({ min: 0 }),
    help: 'Replace a worker gracefully once its resident memory exceeds this many MiB. 0 = never.',
    hup: true,
  }),
  requestTimeout: setting({
    section: 'Worker processes',
    flags: ['--request-timeout'],
    arg: 'SECONDS',
    default: 0,
    parse: seconds(),
    help: 'Per-request deadline (uWSGI harakiri, without the kill): answer 504 and log. 0 = off.',
    hup: true,
  }),
  waitReady: setting({
    section: 'Worker processes',
    flags: ['--wait-ready'],
    default: false,
    parse: bool,
    help: "A worker is ready only when the app calls tsgun's ready(), not when it accepts.",
    hup: true,
  }),
  readyTimeout: setting({
    section: 'Worker processes',
    flags: ['--ready-timeout'],
    arg: 'SECONDS',
    default: 60,
    parse: seconds({ min: 0.1 }),
    help: 'A worker not ready this long after spawn fails its boot (a reload is aborted).',
    hup: true,
  }),
  reloadBatch: setting({
    section: 'Worker processes',
    flags: ['--reload-batch'],
    arg: 'INT',
    default: 1,
    parse: positive,
    help: 'Workers replaced at once by a reload or recycling.',
    hup: true,
  }),
  limitRequestLine: setting({
    section: 'Security',
    flags: ['--limit-request-line'],
    arg: 'BYTES',
    default: 4094,
    parse: int({ min: 0, max: 8190 }),
    help: 'Longest request line (method, URI, version) accepted, else 414. 0 = Node limit only.',
    hup: true,
  }),
  limitRequestFields: setting({
    section: 'Security',
    flags: ['--limit-request-fields'],
    arg: 'INT',
    default: 100,
    parse: int({ min: 0, max: 32768 }),
    help: 'Most header fields accepted in a request, else 431. 0 = Node limit only.',
    hup: true,
  }),
  limitRequestFieldSize: setting({
    section: 'Security',
    flags: ['--limit-request-field-size'],
    arg: 'BYTES',
    default: 8190,
    parse: int({ min: 0 }),
    help: 'Largest header field (name and value) accepted, else 431. 0 = Node limit only.',
    hup: true,
  }),
  proxyProtocol: setting({
    section: 'Security',
    flags: ['--proxy-protocol'],
    default: false,
    parse: bool,
    help: "Read a PROXY protocol header (v1 or v2, as HAProxy's send-proxy or an AWS NLB sends it) on each connection from --proxy-allow-from (or a unix socket): the app sees the client's address. A bad header closes that connection.",
    hup: false,
  }),
  proxyAllowFrom: setting({
    section: 'Security',
    flags: ['--proxy-allow-from'],
    arg: 'IPS',
    default: LOCAL_PEERS,
    defaultDoc: LOCAL_PEERS.join(','),
    parse: list(parseAllowIp),
    help: 'With --proxy-protocol: peers (IPs, CIDRs, or *) that must send the header; others are served as they are.',
    hup: false,
  }),
  // Slow clients: deadlines without progress, nginx's defaults (docs/security.md, "Slow and idle clients").
  headerTimeout: setting({
    section: 'Security',
    flags: ['--header-timeout'],
    arg: 'SECONDS',
    default: 20,
    parse: seconds(),
    help: 'A request whose headers are not complete this long after it began (or a connection that sent nothing) is answered 408 and closed. 0 = off.',
    hup: true,
  }),
  clientBodyTimeout: setting({
    section: 'Security',
    flags: ['--client-body-timeout'],
    arg: 'SECONDS',
    default: 60,
    parse: seconds(),
    help: 'A request body that makes no progress this long while the app waits for it is answered 408 (nginx client_body_timeout). 0 = off.',
    hup: true,
  }),
  sendTimeout: setting({
    section: 'Security',
    flags: ['--send-timeout'],
    arg: 'SECONDS',
    default: 60,
    parse: seconds(),
    help: 'A client that takes no byte of its response this long is disconnected (nginx send_timeout). 0 = off.',
    hup: true,
  }),
  pid: setting({
    section: 'Server mechanics',
    flags: ['-p', '--pid'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'Write the master pid to this file (refused if it names a running process).',
    hup: false,
  }),
  controlSocket: setting({
    section: 'Server mechanics',
    flags: ['--control-socket'],
    arg: 'PATH',
    default: null,
    defaultDoc: 'beside --pid: FILE with .pid replaced by .ctl; none without --pid',
    parse: nullable(string),
    help: "Unix socket (mode 0600, the master user's) that `tsgun status|reload|scale|stop` talk to.",
    hup: false,
  }),
  startupTimeout: setting({
    section: 'Server mechanics',
    flags: ['--startup-timeout'],
    arg: 'SECONDS',
    default: 60,
    parse: seconds({ min: 0.1 }),
    help: 'The config file and the onStarting hook must settle within this, else the start stops with one error line, exit 2 (sooner when nothing is left that could settle them).',
    hup: false,
  }),
  name: setting({
    section: 'Server mechanics',
    flags: ['-n', '--name'],
    arg: 'NAME',
    default: null,
    defaultDoc: "the app's package.json name, else the app file's name",
    parse: nullable(string),
    help: 'Process name (Gunicorn proc_name): `ps` shows `tsgun: master [NAME]`; in every log line and metric.',
    hup: false,
  }),
  user: setting({
    section: 'Server mechanics',
    flags: ['-u', '--user'],
    arg: 'USER',
    default: null,
    parse: nullable(string),
    help: 'Run workers as this user (name or uid); the master binds first, so port 80 works.',
    hup: false,
  }),
  group: setting({
    section: 'Server mechanics',
    flags: ['-g', '--group'],
    arg: 'GROUP',
    default: null,
    parse: nullable(string),
    help: "Run workers as this group (name or gid); default: the user's group.",
    hup: false,
  }),
  umask: setting<number | null>({
    section: 'Server mechanics',
    flags: ['-m', '--umask'],
    arg: 'OCTAL',
    default: null,
    parse: nullable(octal),
    format: (v) => (v === null ? null : `0o${v.toString(8).padStart(3, '0')}`),
    help: 'File mode creation mask (e.g. 0o007), applied before unix sockets are created.',
    hup: false,
  }),
  chdir: setting({
    section: 'Server mechanics',
    flags: ['--chdir'],
    arg: 'DIR',
    default: null,
    parse: nullable(string),
    help: 'Change to this directory before loading the app.',
    hup: false,
  }),
  env: setting<readonly (readonly [string, string])[]>({
    section: 'Server mechanics',
    flags: ['-e', '--env'],
    arg: 'KEY=VALUE',
    repeatable: true,
    default: [],
    parse: keyValues,
    format: (v) => v.map(([k, val]) => `${k}=${val}`),
    help: 'Set an environment variable for the workers, repeatable (a config file may give an object). With a PM2 ecosystem file, a bare NAME picks its env_NAME.',
    hup: true,
  }),
  router: setting({
    section: 'Router',
    flags: ['--router'],
    default: false,
    parse: bool,
    help: 'Router mode (uWSGI: --http): a router process owns the binds and proxies to workers on private unix sockets, holding client keep-alive across reloads.',
    hup: false,
  }),
  http2: setting({
    section: 'Router',
    flags: ['--http2'],
    default: false,
    parse: bool,
    help: 'Serve HTTP/2: ALPN h2 with TLS, h2c prior knowledge from --forwarded-allow-ips peers. With --router workers get HTTP/1.1; without it the app runs on the http2 compat API (not Express or Fastify).',
    hup: false,
  }),
  routerProcesses: setting({
    section: 'Router',
    flags: ['--router-processes'],
    arg: 'INT',
    default: 1,
    parse: int({ min: 1, max: 64 }),
    help: 'Router mode (uWSGI: --http-processes): router processes accepting on the public sockets, each supervised; sticky and TLS give the same worker from any of them.',
    hup: false,
  }),
  sticky: setting({
    section: 'Router',
    flags: ['--sticky'],
    arg: 'cookie|ip',
    default: null,
    parse: nullable(oneOf(STICKY_MODES)),
    help: 'Router mode: keep a client on one worker, by a tsgun_worker cookie or by client IP.',
    hup: false,
  }),
  route: setting<readonly RouteEntry[]>({
    section: 'Router',
    flags: ['--route'],
    arg: 'PREFIX=URL',
    repeatable: true,
    default: [],
    parse: list(parseRoute),
    format: (v) => v.map(formatRoute),
    help: 'Router mode: proxy paths under PREFIX to an external origin URL, repeatable (longest prefix wins).',
    hup: false,
  }),
  proxyTimeout: setting({
    section: 'Router',
    flags: ['--proxy-timeout'],
    arg: 'SECONDS',
    default: 60,
    parse: seconds({ min: 0.001 }),
    help: 'Router mode: an upstream idle this long answers 504; also how long a request waits for a worker.',
    hup: false,
  }),
  queueLimit: setting({
    section: 'Router',
    flags: ['--queue-limit'],
    arg: 'INT',
    default: 0,
    parse: int({ min: 0, max: 1_000_000 }),
    help: 'Router mode: requests that may wait for a worker connection at once; the next is answered 503 with Retry-After at once. 0 = no limit.',
    hup: false,
  }),
  queueTimeout: setting({
    section: 'Router',
    flags: ['--queue-timeout'],
    arg: 'SECONDS',
    default: 0,
    parse: secondsOrOff(0.001),
    help: 'Router mode: a request that waited this long for a worker connection is answered 503 with Retry-After. 0 = off.',
    hup: false,
  }),
  readyzQueue: setting({
    section: 'Router',
    flags: ['--readyz-queue'],
    arg: 'INT',
    default: 0,
    parse: int({ min: 0, max: 1_000_000 }),
    help: 'Router mode: /readyz of --stats answers 503 while more than this many requests wait for a worker connection. 0 = off.',
    hup: false,
  }),
  forwardedAllowIps: setting({
    section: 'Router',
    flags: ['--forwarded-allow-ips'],
    arg: 'IPS',
    // Gunicorn's variable, checked like the flag; the built-in default is not parsed (the first
    // IPv6 check compiles Node's IPv6 pattern, which every start would pay).
    default: (env) => {
      const given = env['FORWARDED_ALLOW_IPS'];
      return given === undefined ? LOCAL_PEERS : list(parseAllowIp)(given);
    },
    defaultDoc: `${LOCAL_PEERS.join(',')}, or $FORWARDED_ALLOW_IPS`,
    parse: list(parseAllowIp),
    help: 'Peers (IPs, CIDRs, or *) trusted as proxies: the router keeps their X-Forwarded-* headers (others are replaced); with --http2 they may open h2c (either mode).',
    hup: false,
  }),
  logLevel: setting({
    section: 'Logging',
    flags: ['--log-level'],
    arg: 'LEVEL',
    default: 'info',
    parse: oneOf(LOG_LEVELS),
    help: `Error log level: ${LOG_LEVELS.join(', ')}.`,
    hup: true,
  }),
  logFormat: setting({
    section: 'Logging',
    flags: ['--log-format'],
    arg: 'FORMAT',
    default: 'auto',
    parse: oneOf(LOG_FORMATS),
    help: 'Error log lines as json, or pretty (one readable line per record); auto: pretty when stderr is a terminal.',
    hup: false,
  }),
  errorLogfile: setting({
    section: 'Logging',
    flags: ['--error-logfile'],
    arg: 'FILE',
    default: '-',
    parse: string,
    help: "Where JSON log lines go ('-' = stderr).",
    hup: false,
  }),
  captureOutput: setting({
    section: 'Logging',
    flags: ['--capture-output'],
    default: false,
    parse: bool,
    help: "The app's stdout and stderr lines become error log records (info and error), with the worker's index.",
    hup: true,
  }),
  accessLogfile: setting({
    section: 'Logging',
    flags: ['--access-logfile'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: "Access log in Gunicorn's format ('-' = stdout). Off by default.",
    hup: true,
  }),
  certfile: setting({
    section: 'TLS',
    flags: ['--certfile'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'PEM certificate (chain): workers serve HTTPS. HUP reloads it; a bad file keeps the old one.',
    hup: true,
  }),
  keyfile: setting({
    section: 'TLS',
    flags: ['--keyfile'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'PEM private key for --certfile.',
    hup: true,
  }),
  caCerts: setting({
    section: 'TLS',
    flags: ['--ca-certs'],
    arg: 'FILE',
    default: null,
    parse: nullable(string),
    help: 'PEM CA (intermediate) certificates the server presents with its certificate.',
    hup: true,
  }),
  accessLogformat: setting({
    section: 'Logging',
    flags: ['--access-logformat'],
    arg: 'FORMAT',
    default: null,
    defaultDoc: 'Gunicorn\'s: %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"',
    parse: nullable((v) => {
      const format = string(v);
      compileFormat(format); // an unknown atom fails here, at start, not on the first request
      return format;
    }),
    help: "Access log line with Gunicorn's atoms: %(h)s %(r)s %(s)s %(D)s %({header}i)s ... (see Logs).",
    hup: true,
  }),
  accessLogJson: setting({
    section: 'Logging',
    flags: ['--access-log-json'],
    default: false,
    parse: bool,
    help: 'Write the access log as JSON lines (one object per request) instead of text.',
    hup: true,
  }),
  stats: setting<BindAddress | null>({
    section: 'Stats',
    flags: ['--stats'],
    arg: 'ADDRESS',
    default: null,
    parse: nullable(addressWhere((a) => a.kind !== 'fd', 'HOST:PORT or unix:PATH')),
    format: (v) => (v === null ? null : formatBindAddress(v)),
    help: 'Serve stats over HTTP here (JSON at /, Prometheus at /metrics, /healthz, /readyz, a live page at /dashboard, the event timeline at /events). Off by default.',
    hup: false,
  }),
  statsAllowRemote: setting({
    section: 'Stats',
    flags: ['--stats-allow-remote'],
    default: false,
    parse: bool,
    help: 'Allow --stats on a non-loopback address (it exposes pids and counters).',
    hup: false,
  }),
  statsdHost: setting({
    section: 'Stats',
    flags: ['--statsd-host'],
    arg: 'HOST:PORT',
    default: null,
    parse: nullable((v) =>
      formatBindAddress(addressWhere((a) => a.kind === 'tcp' && a.port !== 0, 'HOST:PORT')(v)),
    ),
    help: "Send Gunicorn's metrics (requests, request.duration, request.status.N, workers) over UDP.",
    hup: false,
  }),
  statsdPrefix: setting({
    section: 'Stats',
    flags: ['--statsd-prefix'],
    arg: 'PREFIX',
    default: 'tsgun',
    parse: (v) => string(v).replace(/\.$/, ''),
    help: 'Prefix of every statsd metric name.',
    hup: false,
  }),
  statsdSampleRate: setting({
    section: 'Stats',
    flags: ['--statsd-sample-rate'],
    arg: 'RATE',
    default: 1,
    parse: fraction,
    help: 'Share of requests whose duration is sent as a statsd timer (0 < RATE <= 1; below 1 the lines carry |@RATE).',
    hup: false,
  }),
  cron: setting<readonly CronEntry[]>({
    section: 'Scheduled jobs',
    flags: ['--cron'],
    arg: 'SPEC ACTION',
    repeatable: true,
    default: [],
    parse: (v) =>
      (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((x) => parseCron(string(x))),
    format: (v) =>
      v.map(
        (e) => `${e.spec} ${e.action.kind === 'exec' ? `exec:${e.action.command}` : e.action.kind}`,
      ),
    help: 'Repeatable: "SPEC ACTION", SPEC a 5- or 6-field cron expression, ACTION reload, restart-workers or exec:COMMAND.',
    hup: true,
  }),
  cronTimezone: setting({
    section: 'Scheduled jobs',
    flags: ['--cron-timezone'],
    arg: 'TZ',
    default: null,
    parse: nullable((v) => {
      const tz = string(v);
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
      } catch {
        throw new Error(`unknown time zone ${JSON.stringify(tz)}`);
      }
      return tz;
    }),
    help: 'Time zone of --cron and app job schedules (default: the system time zone).',
    hup: true,
  }),
  reload: setting({
    section: 'Development',
    flags: ['--reload'],
    default: false,
    parse: bool,
    help: "Rolling reload when a file under the app's directory changes (debounced). For development.",
    hup: false,
  }),
  reloadExtraFile: setting({
    section: 'Development',
    flags: ['--reload-extra-file'],
    arg: 'GLOB',
    repeatable: true,
    default: [],
    parse: list(string),
    help: 'Also reload when these change (repeatable; *, ** and ? globs).',
    hup: false,
  }),
  ...hookSettings(),
  checkConfig: setting({
    section: 'Debugging',
    flags: ['--check-config'],
    cliOnly: true,
    default: false,
    parse: bool,
    help: 'Check the settings and that the app loads, list every problem, exit 0 or 2/4.',
    hup: false,
  }),
  printConfig: setting({
    section: 'Debugging',
    flags: ['--print-config'],
    cliOnly: true,
    default: false,
    parse: bool,
    help: 'Print the resolved settings and where each came from, then exit.',
    hup: false,
  }),
});

export type Registry = typeof REGISTRY;
/** Every setting tsgun has, with its resolved type, as the registry declares it. */
export type Settings = {
  -readonly [K in keyof Registry]: ValueOf<Registry[K]>;
};
export type SettingName = keyof Settings;
export type Config = Readonly<Settings>;

export const SETTING_NAMES = Object.keys(REGISTRY) as SettingName[];

/** The long flag, which names a setting in every error message (`--workers`, or `APP`). */
export function displayName(name: SettingName): string {
  const def: SettingDef<unknown> = REGISTRY[name];
  return def.flags.find((f) => f.startsWith('--')) ?? def.arg ?? name;
}
