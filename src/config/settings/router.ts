/** The settings of the Router section: router mode, HTTP/2, stickiness, routes, the queue. */
import { bool, int, list, nullable, oneOf, seconds, secondsOrOff } from '../parsers.js';
import { formatRoute, parseAllowIp, parseRoute, type RouteEntry } from '../route.js';
import { LOCAL_PEERS, setting } from '../spec.js';

export const STICKY_MODES = ['cookie', 'ip'] as const;
export type StickyMode = (typeof STICKY_MODES)[number];

export const ROUTER_SETTINGS = {
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
};
