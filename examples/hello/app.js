// The smallest tsgun app: a request listener. Run it with `tsgun examples/hello/app.js`.
export default function hello(req, res) {
  const body = JSON.stringify({ hello: 'world', pid: process.pid, url: req.url });
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
