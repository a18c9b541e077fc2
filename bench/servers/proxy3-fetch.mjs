// A router candidate: http-proxy-3's fetch path (fetchOptions) with an undici Agent as its
// dispatcher, in front of a bare Node process on a unix socket; nothing else (as proxy3.mjs).
import { ProxyServer } from 'http-proxy-3';
import { Agent, fetch } from 'undici';
import { proxyInFront } from './upstream.mjs';

proxyInFront(new URL(import.meta.url), (socketPath) => {
  const dispatcher = new Agent({ connect: { socketPath } });
  // Without an agent http-proxy-3 asks the upstream for `Connection: close`, which would close
  // the pooled connection and the client's: the documented hook drops it.
  const onBeforeRequest = async (requestOptions) => requestOptions.headers.delete('connection');
  const proxy = new ProxyServer({
    fetch,
    fetchOptions: { requestOptions: { dispatcher }, onBeforeRequest },
  });
  const target = 'http://localhost';
  return (req, res) =>
    proxy.web(req, res, { target }, () => {
      if (!res.headersSent) res.statusCode = 502;
      res.end();
    });
});
