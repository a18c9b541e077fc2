import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { hasOpenssl, makeCert as makeCertIn } from '../helpers/certs.js';
import { clientLoop, request } from '../helpers/http.js';
import { fixture, killAll, plainLines, runTsgun, startApp } from '../helpers/tsgun.js';

after(killAll);

const dir = mkdtempSync(join(tmpdir(), 'tsgun-tls-'));

const makeCert = (name: string) => makeCertIn(dir, name);

/** The subject CN of the certificate a new TLS connection gets. */
function servedName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.on('error', reject);
  });
}

/** Two certificates and the paths tsgun reads, holding the first one. */
function liveCerts(name: string) {
  const one = makeCert(`${name}-one`);
  const two = makeCert(`${name}-two`);
  const live = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  copyFileSync(one.cert, live.cert);
  copyFileSync(one.key, live.key);
  return { live, two };
}

/** Put the second certificate in place and HUP under load: no request fails, new ones get it. */
async function rotateUnderLoad(
  t: ReturnType<typeof startApp>,
  certs: ReturnType<typeof liveCerts>,
  url: string,
): Promise<void> {
  copyFileSync(certs.two.cert, certs.live.cert);
  copyFileSync(certs.two.key, certs.live.key);
  const load = clientLoop(url, { concurrency: 4 });
  await t.reload(15_000);
  const stats = await load.stop();
  assert.equal(stats.failed, 0, stats.errors.slice(0, 3).join(', '));
}

describe('TLS', { skip: !hasOpenssl && 'openssl is needed to make test certificates' }, () => {
  it('serves HTTPS in direct mode and rotates the certificate on HUP without a failed request', async () => {
    const certs = liveCerts('direct');
    const { live } = certs;
    const t = startApp('-w', '2', '--certfile', live.cert, '--keyfile', live.key);
    await t.waitForReady(2);
    const url = await t.url();
    assert.match(url, /^https:\/\//);
    const port = await t.port();
    assert.equal((await request(`${url}/`)).status, 200);
    assert.equal(await servedName(port), 'direct-one');

    // A broken file on HUP: logged, the old certificate stays.
    writeFileSync(live.cert, 'not a certificate');
    const mark = t.logs.length;
    t.signal('SIGHUP');
    const kept = await t.waitForLog(
      (l) => l.msg.includes('keeping the current certificate'),
      10_000,
      mark,
    );
    assert.equal(kept.level, 50);
    await t.waitForLog((l) => l.msg === 'reload complete', 15_000, mark);
    assert.equal(await servedName(port), 'direct-one');

    await rotateUnderLoad(t, certs, url);
    assert.equal(await servedName(port), 'direct-two');
    t.kill();
  });

  it('router mode: the router terminates TLS and rotates the certificate on HUP', async () => {
    const certs = liveCerts('router');
    const { live } = certs;
    const t = startApp('--router', '-w', '2', '--certfile', live.cert, '--keyfile', live.key);
    await t.waitForLog((l) => l.msg === 'router ready');
    await t.waitForReady(2);
    const url = await t.url();
    const port = await t.port();
    const reply = await request(`${url}/`);
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as { forwarded: { proto: string } };
    assert.equal(seen.forwarded.proto, 'https', 'workers behind the router learn the scheme');
    assert.equal(await servedName(port), 'router-one');

    await rotateUnderLoad(t, certs, url);
    assert.equal(await servedName(port), 'router-two');
    t.kill();
  });

  it('--router-processes 2: every router terminates TLS and rotates on HUP', async () => {
    const certs = liveCerts('routers');
    const { live } = certs;
    const t = startApp(
      ...['--router', '--router-processes', '2', '-w', '1'],
      ...['--certfile', live.cert, '--keyfile', live.key],
    );
    await t.waitForReady(1);
    let ready = 0;
    await t.waitForLog((l) => l.msg === 'router ready' && ++ready === 2);
    const url = await t.url();
    const port = await t.port();
    assert.equal((await request(`${url}/`)).status, 200);
    await rotateUnderLoad(t, certs, url);
    // New connections land on either router: each must serve the new certificate.
    for (let i = 0; i < 10; i++) assert.equal(await servedName(port), 'routers-two');
    t.kill();
  });

  it('refuses a missing or mismatched file at start with one line', async () => {
    const one = makeCert('three');
    const other = makeCert('four');
    const missing = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--certfile',
      join(dir, 'nope.crt'),
      '--keyfile',
      one.key,
    ]);
    assert.equal(missing.code, 2);
    assert.match(
      plainLines(missing.stderr)[0]!,
      /--certfile: cannot read .*nope\.crt: ENOENT \[TSGUN_ERR_TLS\]/,
    );
    const mismatch = await runTsgun([
      fixture('app.mjs'),
      '-b',
      '127.0.0.1:0',
      '--certfile',
      one.cert,
      '--keyfile',
      other.key,
    ]);
    assert.equal(mismatch.code, 2);
    assert.match(plainLines(mismatch.stderr)[0]!, /--certfile\/--keyfile: .*\[TSGUN_ERR_TLS\]/);
    const alone = await runTsgun([fixture('app.mjs'), '--certfile', one.cert]);
    assert.match(plainLines(alone.stderr)[0]!, /--certfile and --keyfile go together/);
  });
});
