import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { foreignSpelling } from '../../src/cli/preflight.js';
import { statsAddress } from '../../src/cli/stats-client.js';

describe('foreign spellings', () => {
  it("answers PM2's and Gunicorn's flags with tsgun's", () => {
    const said = (argv: string[]) => foreignSpelling(argv)?.problems[0] ?? null;
    assert.match(said(['app.js', '-i', '4'])!, /as -w 4$/);
    assert.match(said(['app.js', '--instances=max'])!, /PM2's --instances max as -w auto$/);
    assert.match(said(['--watch', 'app.js'])!, /use --reload/);
    assert.match(said(['--workers=max', 'app.js'])!, /use -w auto/);
    assert.equal(said(['app.js', '-w', '4', '--reload']), null);
    assert.equal(said(['app.js', '--', '-i']), null);
  });
});

describe('stats address', () => {
  it('takes the address as --stats was given or as its URL', () => {
    assert.equal(statsAddress('http://127.0.0.1:9191/'), '127.0.0.1:9191');
    assert.equal(statsAddress('127.0.0.1:9191'), '127.0.0.1:9191');
    assert.equal(statsAddress('unix:/run/tsgun.sock'), 'unix:/run/tsgun.sock');
    assert.throws(() => statsAddress('fd://3'), /not a stats address/);
  });
});
