import type { Socket } from 'node:dgram';
import type { WorkerCounters } from '../../ipc/protocol.js';
import { nodeRequire } from '../../node-require.js';

/** A statsd datagram stays under a typical path MTU (1500 minus IP and UDP headers, with room). */
const MAX_PACKET_BYTES = 1400;

/**
 * The statsd lines of one worker report, against its previous one: Gunicorn's names, with one
 * timer line per (sampled) request. Counters can be summed over the report without changing
 * what statsd computes; timers cannot (statsd derives percentiles from each value), so every
 * duration is its own `|ms` line, with `|@RATE` when --statsd-sample-rate is below 1.
 */
export function reportLines(
  prefix: string,
  sampleRate: number,
  current: WorkerCounters,
  previous: WorkerCounters | null,
): string[] {
  const lines: string[] = [];
  const requests = current.requests - (previous?.requests ?? 0);
  if (requests > 0) lines.push(`${prefix}.requests:${requests}|c`);
  const rate = sampleRate < 1 ? `|@${sampleRate}` : '';
  for (const ms of current.timings) lines.push(`${prefix}.request.duration:${ms}|ms${rate}`);
  for (const [status, n] of Object.entries(current.statusDelta))
    lines.push(`${prefix}.request.status.${status}:${n}|c`);
  return lines;
}

/** Lines joined by newlines into as few datagrams as fit under `max` bytes each. */
export function packets(lines: readonly string[], max = MAX_PACKET_BYTES): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > max) {
      out.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) out.push(current);
  return out;
}

/**
 * --statsd-host: sent over UDP by the master from the workers' once-a-second reports:
 * <prefix>.requests (counter), <prefix>.request.duration (a timer per request),
 * <prefix>.request.status.<code> (counter), <prefix>.workers (gauge).
 */
export class Statsd {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;

  constructor(
    target: string,
    private readonly prefix: string,
    private readonly sampleRate: number,
  ) {
    const colon = target.lastIndexOf(':');
    this.host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    this.port = Number(target.slice(colon + 1));
    // node:dgram only with --statsd-host: most masters never load it.
    const { createSocket } = nodeRequire('node:dgram') as typeof import('node:dgram');
    this.socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.unref();
    this.socket.on('error', () => {});
  }

  private send(lines: readonly string[]): void {
    for (const p of packets(lines)) this.socket.send(p, this.port, this.host);
  }

  /** One worker's report, against its previous one. */
  report(current: WorkerCounters, previous: WorkerCounters | null): void {
    this.send(reportLines(this.prefix, this.sampleRate, current, previous));
  }

  workers(count: number): void {
    this.send([`${this.prefix}.workers:${count}|g`]);
  }

  close(): void {
    this.socket.close();
  }
}
