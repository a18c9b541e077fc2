/** The settings of the Security section: request limits, the PROXY protocol, slow clients. */
import { bool, int, list, seconds } from '../parsers.js';
import { parseAllowIp } from '../route.js';
import { LOCAL_PEERS, setting } from '../spec.js';

export const SECURITY_SETTINGS = {
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
};
