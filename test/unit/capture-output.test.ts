import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineBuffer } from '../../src/worker/capture-output.js';

describe('--capture-output line buffer', () => {
  it('gives complete lines, keeps a partial one until its newline', () => {
    const b = new LineBuffer();
    assert.deepEqual(b.push('a\nb'), ['a']);
    assert.deepEqual(b.push('c'), []);
    assert.deepEqual(b.push('\r\n\nd\n'), ['bc', '', 'd']);
    assert.equal(b.flush(), null);
  });
  it('flush returns what is left without a newline, once', () => {
    const b = new LineBuffer();
    b.push('last words');
    assert.equal(b.flush(), 'last words');
    assert.equal(b.flush(), null);
  });
  it('a very long line without a newline is cut at 64 KiB instead of growing forever', () => {
    const b = new LineBuffer();
    const lines = b.push('x'.repeat(64 * 1024 + 10));
    assert.deepEqual(
      lines.map((l) => l.length),
      [64 * 1024],
    );
    assert.equal(b.flush(), 'x'.repeat(10));
  });
});
