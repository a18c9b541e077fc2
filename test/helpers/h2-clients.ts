import { spawnSync } from 'node:child_process';
import type { ClientHttp2Session } from 'node:http2';

/** Whether this curl speaks HTTP/2 (--http2, --http2-prior-knowledge). */
export const hasCurlH2 = /HTTP2/.test(
  spawnSync('curl', ['--version'], { encoding: 'utf8' }).stdout ?? '',
);
/** Whether h2load (Debian's nghttp2-client) is installed. */
export const hasH2load = spawnSync('sh', ['-c', 'command -v h2load']).status === 0;

export function curl(...args: string[]): { status: number; stdout: string } {
  const r = spawnSync('curl', ['-s', '--max-time', '10', ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout };
}

/** curl's answer body (JSON) and the HTTP version it spoke ('2', '1.1'). */
export function curlVersion(...args: string[]): { json: string; version: string } {
  const [json = '', version = ''] = curl('-w', '\n%{http_version}', ...args).stdout.split('\n');
  return { json, version };
}

/** h2load's summary of 2000 h2c requests (4 connections, 10 streams each) to `port`. */
export function h2load(port: number): string {
  const r = spawnSync(
    'h2load',
    ['-n', '2000', '-c', '4', '-m', '10', `http://127.0.0.1:${port}/`],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
  return r.stdout;
}

/** One request on an h2 session: status, body, and whether the session got GOAWAY by its end. */
export function h2Request(client: ClientHttp2Session, path: string, body?: string) {
  let goaway = false;
  client.on('goaway', () => {
    goaway = true;
  });
  const stream = client.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path });
  stream.end(body);
  return new Promise<{ status: number; body: string; goaway: () => boolean }>((resolve, reject) => {
    let status = 0;
    let text = '';
    stream.on('response', (h) => {
      status = Number(h[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => {
      text += c;
    });
    stream.on('error', reject);
    stream.on('end', () => resolve({ status, body: text, goaway: () => goaway }));
  });
}
