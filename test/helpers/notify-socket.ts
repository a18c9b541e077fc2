import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, killGroup } from './tsgun.js';

/** One datagram on the notify socket: its assignments, the sender's pid, when it arrived. */
export interface Notification {
  readonly text: string;
  readonly pid: number | null;
  readonly receivedUsec: number;
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * A real unix datagram socket standing in for systemd's NOTIFY_SOCKET (python3: Node has no
 * datagram unix sockets), in its own process group. systemd-notify's BARRIER=1 messages are
 * dropped from `messages`: they are how it waits, not what it says.
 */
export class NotifySocket {
  readonly path: string;
  readonly messages: Notification[] = [];
  private readonly child: ChildProcess;
  private readonly dir: string;
  private waiters: (() => void)[] = [];
  readonly listening: Promise<void>;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'tsgun-notify-'));
    this.path = join(this.dir, 'notify.sock');
    this.child = spawn('python3', [fixture('notify-socket.py'), this.path], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffer = '';
    let listening: () => void = () => {};
    this.listening = new Promise((resolve) => {
      listening = resolve;
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if ('listening' in line) {
          listening();
          continue;
        }
        const text = line['text'] as string;
        if (text === 'BARRIER=1') continue;
        const fields = Object.fromEntries(
          text.split('\n').map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
        );
        this.messages.push({
          text,
          pid: line['pid'] as number | null,
          receivedUsec: line['receivedUsec'] as number,
          fields,
        });
        for (const w of this.waiters.slice()) w();
      }
    });
  }

  /** The first message from index `from` on that matches. */
  waitFor(
    predicate: (m: Notification) => boolean,
    from = 0,
    timeoutMs = 15_000,
  ): Promise<Notification> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.slice(from).find(predicate);
        if (!found) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== check);
        reject(
          new Error(
            `no such notification; got:\n${this.messages.map((m) => m.text).join('\n--\n')}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(check);
      check();
    });
  }

  close(): void {
    killGroup(this.child, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
