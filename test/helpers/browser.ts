import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { onRecords } from './records.js';

/**
 * Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: JSON
 * messages separated by NUL on fds 3 and 4), which needs no WebSocket client (Node 20 has none)
 * and no library. Debian's `chromium` package, which .ci/run installs.
 */

const CANDIDATES = [process.env['CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium binary, or null: the browser tests are skipped with that reason. */
export function chromiumPath(): string | null {
  for (const path of CANDIDATES) {
    if (!path) continue;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not this one.
    }
  }
  return null;
}

export const chromiumSkip = chromiumPath()
  ? false
  : 'no Chromium installed (apt-get install chromium, or set CHROMIUM=path)';

interface Pending {
  resolve(v: Record<string, unknown>): void;
  reject(e: Error): void;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Uncaught exceptions in any page: a test expects none. */
  readonly exceptions: string[] = [];
  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    onRecords(child.stdio[4] as Readable, '\0', (text) =>
      this.receive(JSON.parse(text) as Record<string, unknown>),
    );
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  static launch(): Browser {
    const profile = mkdtempSync(join(tmpdir(), 'tsgun-chromium-'));
    const child = spawn(
      chromiumPath()!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true },
    );
    return new Browser(child, profile);
  }

  private receive(msg: Record<string, unknown>): void {
    const id = msg['id'];
    if (typeof id === 'number') {
      const p = this.pending.get(id);
      this.pending.delete(id);
      const error = msg['error'] as { message?: string } | undefined;
      if (error) p?.reject(new Error(`DevTools: ${error.message}`));
      else p?.resolve((msg['result'] as Record<string, unknown>) ?? {});
      return;
    }
    if (msg['method'] === 'Runtime.exceptionThrown') {
      const details = (
        msg['params'] as {
          exceptionDetails?: { text?: string; exception?: { description?: string } };
        }
      ).exceptionDetails;
      this.exceptions.push(details?.exception?.description ?? details?.text ?? 'exception');
    }
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const body = JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.child.stdio[3] as Writable).write(`${body}\0`);
    });
  }

  /** A new tab of this size and colour scheme, at url. */
  async open(url: string, opts: { width: number; height: number; dark?: boolean }): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    await page.send('Runtime.enable');
    await page.send('Emulation.setDeviceMetricsOverride', {
      width: opts.width,
      height: opts.height,
      deviceScaleFactor: 1,
      mobile: opts.width < 600,
    });
    await page.send('Emulation.setEmulatedMedia', {
      features: [{ name: 'prefers-color-scheme', value: opts.dark ? 'dark' : 'light' }],
    });
    await page.send('Page.navigate', { url });
    return page;
  }

  /** Closes the browser and waits for it (its helpers write to the profile until they exit). */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      const timer = setTimeout(() => {
        // Its own process group (detached): the zygote and renderers go with it.
        try {
          process.kill(-this.child.pid!, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 5000);
      this.send('Browser.close').catch(() => {});
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 5 });
  }
}

export class Page {
  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
  ) {}

  send(method: string, params: object = {}): Promise<Record<string, unknown>> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** The value of a JavaScript expression in the page (JSON-serializable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, returnByValue: true });
    const result = r['result'] as { value?: T };
    return result.value as T;
  }

  /** Polls expression until it is truthy (the page updates itself: nothing to wait on). */
  async waitFor<T>(expression: string, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate<T>(expression).catch(() => undefined);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`the page never showed ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async screenshot(path: string): Promise<void> {
    const { data } = await this.send('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
    });
    writeFileSync(path, Buffer.from(data as string, 'base64'));
  }
}
