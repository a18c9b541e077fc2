import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type FileFacts,
  fileProblem,
  openChecked,
  readRegularFile,
} from '../../src/checked-open.js';
import { readConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const file: FileFacts = { kind: 'file', kernel: false, devNull: false, ownStdio: false };

describe('which opened files tsgun reads or writes (fileProblem)', () => {
  it('a regular file: read and written', () => {
    assert.equal(fileProblem(file, 'read'), null);
    assert.equal(fileProblem(file, 'write'), null);
  });

  it('a kernel file posing as a regular one (/proc/self/mem): refused', () => {
    const mem = { ...file, kernel: true };
    for (const use of ['read', 'write'] as const)
      assert.equal(fileProblem(mem, use), 'is a kernel file (/proc, /sys), not a regular file');
  });

  it('a FIFO, a socket, a directory, a block device: refused, named', () => {
    assert.equal(fileProblem({ ...file, kind: 'fifo' }, 'write'), 'is a FIFO, not a regular file');
    assert.equal(
      fileProblem({ ...file, kind: 'socket' }, 'read'),
      'is a socket, not a regular file',
    );
    assert.equal(fileProblem({ ...file, kind: 'directory' }, 'write'), 'is a directory');
    assert.equal(
      fileProblem({ ...file, kind: 'block device' }, 'write'),
      'is a block device, not a regular file',
    );
  });

  it('of devices, only /dev/null and the own stdout/stderr are written, and never read', () => {
    const device = { ...file, kind: 'character device' } as const;
    assert.match(
      fileProblem(device, 'write') ?? '',
      /^is a character device, not a regular file \(of devices only \/dev\/null/,
    );
    assert.equal(fileProblem({ ...device, devNull: true }, 'write'), null);
    assert.equal(fileProblem({ ...device, ownStdio: true }, 'write'), null);
    assert.equal(fileProblem({ ...file, kind: 'fifo', ownStdio: true }, 'write'), null);
    assert.equal(
      fileProblem({ ...device, devNull: true }, 'read'),
      'is a character device, not a regular file',
    );
  });
});

describe('openChecked on real files (never waits)', {
  skip: process.platform !== 'linux' && 'Linux paths',
}, () => {
  const write = constants.O_WRONLY | constants.O_APPEND;
  const refusedAs = (message: string) => ({ code: 'EFTYPE', message });

  it('a FIFO with no reader (ENXIO) or opened for reading: refused as a FIFO', () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'tsgun-fifo-')), 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const fifoRefusal = refusedAs('is a FIFO, not a regular file');
    assert.throws(() => openChecked(fifo, write, 'write'), fifoRefusal);
    assert.throws(() => readRegularFile(fifo), fifoRefusal);
  });

  it('/dev/null is written, never read; /proc/self/mem neither', () => {
    closeSync(openChecked('/dev/null', write, 'write'));
    assert.throws(() => readRegularFile('/dev/null'), { code: 'EFTYPE' });
    const mem = refusedAs('is a kernel file (/proc, /sys), not a regular file');
    assert.throws(() => openChecked('/proc/self/mem', write, 'write'), mem);
  });
});

describe('config files that are odd but not hostile, or hostile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgun-config-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const refusal = async (path: string): Promise<string> => {
    const err = await readConfigFile(path).then(
      () => assert.fail('accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  };

  it('a JSON file starting with a UTF-8 BOM is read, as require() reads it', async () => {
    assert.deepEqual(await readConfigFile(write('bom.json', '\uFEFF{"workers": 3}')), {
      workers: 3,
    });
  });

  it('a module exporting a throwing Proxy: one line naming the file', async () => {
    const traps =
      "{ get() { throw new Error('boom') }, ownKeys() { throw new Error('keys\\nsecond line') } }";
    const path = write('proxy.cjs', `module.exports = new Proxy({}, ${traps});`);
    assert.equal(await refusal(path), `--config: cannot load ${path}: boom`);
    const keys = write(
      'keys.mjs',
      `export default new Proxy({}, { ownKeys() { throw new Error('keys\\nsecond line') } });`,
    );
    assert.equal(await refusal(keys), `--config: cannot load ${keys}: keys`);
  });

  it('a function config returning a throwing Proxy, or throwing a non-Error: one line', async () => {
    const path = write('fn.mjs', "export default () => new Proxy({}, { get() { throw 'nope' } });");
    assert.equal(await refusal(path), `--config: cannot load ${path}: nope`);
    const odd = write('odd.mjs', 'export default () => { throw Object.create(null) };');
    assert.equal(
      await refusal(odd),
      `--config: cannot load ${odd}: it threw something that cannot be shown`,
    );
  });

  it('getters run once, at load: the settings are a plain copy', async () => {
    const path = write(
      'getter.cjs',
      'let n = 0; module.exports = { get workers() { return ++n } };',
    );
    const settings = await readConfigFile(path);
    assert.equal(settings['workers'], 1);
    assert.equal(settings['workers'], 1);
  });
});
