import { createSocket, type Socket } from 'node:dgram';
import type { WorkerCounters } from '../ipc/protocol.js';

/**
 * --statsd-host: Gunicorn's metric names over UDP, sent by the master from the workers' batched
 * reports (never per request): <prefix>.requests (counter), <prefix>.request.duration (timer, the
 * average of the batch), <prefix>.request.status.<code> (counter), <prefix>.workers (gauge).
 */
export class Statsd {
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;

  constructor(
    target: string,
    private readonly prefix: string,
  ) {
    const colon = target.lastIndexOf(':');
    this.host = target.slice(0, colon).replace(/^\[|\]$/g, '');
    this.port = Number(target.slice(colon + 1));
    this.socket = createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    this.socket.unref();
    this.socket.on('error', () => {});
  }

  private send(lines: string[]): void {
    if (lines.length > 0) this.socket.send(lines.join('\n'), this.port, this.host);
  }

  /** One worker's report, against its previous one. */
  report(current: WorkerCounters, previous: WorkerCounters | null): void {
    const p = this.prefix;
    const requests = current.requests - (previous?.requests ?? 0);
    const finished = current.finished - (previous?.finished ?? 0);
    const lines: string[] = [];
    if (requests > 0) lines.push(`${p}.requests:${requests}|c`);
    if (finished > 0) {
      const avg = (current.responseMsTotal - (previous?.responseMsTotal ?? 0)) / finished;
      lines.push(`${p}.request.duration:${avg.toFixed(3)}|ms`);
    }
    for (const [status, n] of Object.entries(current.statusDelta))
      lines.push(`${p}.request.status.${status}:${n}|c`);
    this.send(lines);
  }

  workers(count: number): void {
    this.send([`${this.prefix}.workers:${count}|g`]);
  }

  close(): void {
    this.socket.close();
  }
}
