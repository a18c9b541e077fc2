/** The settings of the Stats section: the stats server and statsd. */
import { type BindAddress, formatBindAddress, parseBindAddress } from '../address.js';
import { bool, fraction, nullable, type Parser, string } from '../parsers.js';
import { setting } from '../spec.js';

/** A bind address of the kinds `ok` accepts; any other is an error that says `expected`. */
function addressWhere(ok: (a: BindAddress) => boolean, expected: string): Parser<BindAddress> {
  return (value) => {
    const address = parseBindAddress(string(value));
    if (!ok(address)) throw new Error(`expected ${expected}`);
    return address;
  };
}

export const STATS_SETTINGS = {
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
};
