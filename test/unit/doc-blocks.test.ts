import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pageWithBlock, readBlock, wantsDocs, writeBlock } from '../helpers/doc-blocks.js';

describe('doc-blocks: the generated blocks of the manual', () => {
  it('finds a block in whichever page holds it, and rewrites only that block', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsgun-doc-blocks-'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(join(root, 'README.md'), '# r\n');
    const page = 'a\n<!-- faults:start -->\nold\n<!-- faults:end -->\nb\n';
    writeFileSync(join(root, 'docs/faults.md'), page);
    assert.equal(pageWithBlock('faults', root), 'docs/faults.md');
    assert.equal(readBlock('faults', root), 'old');
    assert.equal(writeBlock('faults', 'new\nlines', root), 'docs/faults.md');
    assert.equal(
      readFileSync(join(root, 'docs/faults.md'), 'utf8'),
      'a\n<!-- faults:start -->\nnew\nlines\n<!-- faults:end -->\nb\n',
    );
    assert.throws(() => writeBlock('bench', 'x', root), /no page of docs\/ has a <!-- bench:start/);
  });

  it('holds every block the scripts write, each in the page named for it', () => {
    const where: Record<string, string> = {
      bench: 'docs/benchmarks.md',
      startup: 'docs/benchmarks.md',
      'router-summary': 'docs/benchmarks.md',
      faults: 'docs/faults.md',
      security: 'docs/security.md',
      settings: 'docs/settings.md',
      errors: 'docs/errors.md',
    };
    for (const [name, page] of Object.entries(where)) assert.equal(pageWithBlock(name), page, name);
  });

  it('takes --docs, and --readme as its old name', () => {
    assert.ok(wantsDocs(['node', 'x', '--docs']));
    assert.ok(wantsDocs(['node', 'x', '--readme']));
    assert.ok(!wantsDocs(['node', 'x']));
  });
});
