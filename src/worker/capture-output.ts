import type { Logger } from '../log/logger.js';

/**
 * --capture-output (Gunicorn's name): what the app writes to stdout and stderr becomes records of
 * the worker's error log, one per line, instead of raw text interleaved between processes.
 *
 * Done inside the worker, by wrapping `process.stdout.write` and `process.stderr.write` (what
 * console.* and most loggers call): no pipe to the master, so the master stays out of every data
 * path, and each record already carries the worker's pid and id, plus its index (workerIndex, as in the master's lines about it). USR1 needs
 * nothing more: the records go through the worker's logger, which reopens its file. What does
 * not go through those two streams is not captured: a child process the app starts with
 * inherited stdio, or a native addon writing to fd 1/2. tsgun's own logs write to their
 * descriptors directly, never through process.stdout/stderr, so they are not captured twice.
 */

/** Longer than this without a newline: logged as it is, so memory stays bounded. */
const MAX_LINE = 64 * 1024;

/** Text in, complete lines out; a partial line waits for its newline (or flush). Pure. */
export class LineBuffer {
  private pending = '';

  push(text: string): string[] {
    this.pending += text;
    const lines = this.pending.split('\n');
    this.pending = lines.pop()!;
    while (this.pending.length >= MAX_LINE) {
      lines.push(this.pending.slice(0, MAX_LINE));
      this.pending = this.pending.slice(MAX_LINE);
    }
    return lines.map((l) => l.replace(/\r$/, ''));
  }

  /** What is left without a newline (at exit), or null. */
  flush(): string | null {
    const rest = this.pending.replace(/\r$/, '');
    this.pending = '';
    return rest === '' ? null : rest;
  }
}

/** stdout lines are info records, stderr lines error records (docs/operations.md, Logs). */
const LEVELS = { stdout: 'info', stderr: 'error' } as const;

type Write = (
  chunk: string | Uint8Array,
  encoding?: BufferEncoding | ((err?: Error | null) => void),
  callback?: (err?: Error | null) => void,
) => boolean;

export function captureOutput(logger: Logger, index: number | null): void {
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = process[name];
    const buffer = new LineBuffer();
    const record = (line: string) =>
      logger[LEVELS[name]]({ stream: name, workerIndex: index }, line);
    const write: Write = (chunk, encoding, callback) => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
      for (const line of buffer.push(text)) record(line);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (done) process.nextTick(done);
      return true;
    };
    stream.write = write as typeof stream.write;
    // The app's last words without a newline: the logger writes synchronously, so exit is fine.
    process.on('exit', () => {
      const rest = buffer.flush();
      if (rest !== null) record(rest);
    });
  }
}
