import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { compileCacheDir, isPrivateDir } from '../../src/compile-cache.js';
import { NOBODY } from '../helpers/tsgun.js';

const scratch = mkdtempSync(join(tmpdir(), 'tsgun-cc-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const uid = process.getuid!();

describe('the compile cache directory', () => {
  it('is made private (0700) under tmpdir, per user, and reused', () => {
    const dir = compileCacheDir({}, uid, scratch);
    assert.equal(dir, join(scratch, `tsgun-compile-cache-${uid}`));
    assert.equal(compileCacheDir({}, uid, scratch), dir);
  });

  it("is never another user's, a symlink, or writable by others: then no cache", () => {
    const tmp = mkdtempSync(join(scratch, 'shared-'));
    const planted = join(tmp, `tsgun-compile-cache-${uid}`);
    mkdirSync(planted);
    chmodSync(planted, 0o777);
    assert.equal(compileCacheDir({}, uid, tmp), null, 'world-writable');
    chmodSync(planted, 0o700);
    if (uid === 0) {
      chownSync(planted, NOBODY, NOBODY);
      assert.equal(compileCacheDir({}, uid, tmp), null, "another user's");
    }
    const elsewhere = mkdtempSync(join(scratch, 'target-'));
    const link = mkdtempSync(join(scratch, 'link-'));
    symlinkSync(elsewhere, join(link, `tsgun-compile-cache-${uid}`));
    assert.equal(compileCacheDir({}, uid, link), null, 'a symlink');
    assert.equal(isPrivateDir(elsewhere, uid), true);
  });

  it('is not used under a tmpdir others can write to without the sticky bit', () => {
    const open = mkdtempSync(join(scratch, 'open-'));
    chmodSync(open, 0o777);
    assert.equal(compileCacheDir({}, uid, open), null, 'world-writable, not sticky');
    chmodSync(open, 0o1777);
    assert.equal(compileCacheDir({}, uid, open), join(open, `tsgun-compile-cache-${uid}`));
  });

  it('a read-only or missing tmpdir means no cache, not an error', () => {
    assert.equal(compileCacheDir({}, uid, join(scratch, 'missing', 'deeper')), null);
  });

  it("follows the operator's NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE", () => {
    assert.equal(
      compileCacheDir({ NODE_COMPILE_CACHE: '/var/cache/x' }, uid, scratch),
      '/var/cache/x',
    );
    assert.equal(compileCacheDir({ NODE_DISABLE_COMPILE_CACHE: '1' }, uid, scratch), null);
  });
});
