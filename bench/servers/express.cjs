// Start-up baseline for a CommonJS app: Express as its docs write it, listening on $PORT itself
// (run unchanged by `node` and by tsgun). Node's http is required, never ES-imported here.
const express = require('express');

const app = express();
app.use((_req, res) => res.json({ hello: 'world' }));
app.listen(Number(process.env.PORT), '127.0.0.1');
