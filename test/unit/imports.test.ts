import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The module graph of src/ (a folder, or a single file at the top, is one module) must be the one
 * docs/design.md's module table draws, and acyclic. Read from the sources, not the build.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = `${ROOT}src`;

/** `config/registry.ts` -> `config`; `hooks.ts` -> `hooks`. */
const moduleOf = (path: string) =>
  path.includes('/') ? path.slice(0, path.indexOf('/')) : path.replace(/\.(ts|js)$/, '');

/** The .ts files under src/, as paths relative to it. */
const sourceFiles = () =>
  readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.ts'));

function actualGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles()) {
    const from = moduleOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    const text = readFileSync(`${SRC}/${file}`, 'utf8');
    for (const m of text.matchAll(/(?:\bfrom|\bimport\()\s*'(\.\.?\/[^']+)'/g)) {
      const target = posix.normalize(posix.join(posix.dirname(file), m[1]!));
      assert.ok(!target.startsWith('..'), `${file} imports ${m[1]} from outside src/`);
      const to = moduleOf(target);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

function readmeTable(): Map<string, Set<string>> {
  const readme = readFileSync(`${ROOT}docs/design.md`, 'utf8');
  const table = new Map<string, Set<string>>();
  for (const m of readme.matchAll(/^\| `src\/([\w-]+)(?:\/|\.ts)` \|.*\| ([^|]+) \|$/gm)) {
    const allowed = m[2]!.trim() === 'nothing' ? [] : m[2]!.split(',').map((s) => s.trim());
    table.set(m[1]!, new Set(allowed.map((s) => s.replace(/^`|`$/g, ''))));
  }
  return table;
}

/** A cycle as a path (a -> b -> a), or null. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const done = new Set<string>();
  const visit = (node: string, path: string[]): string[] | null => {
    if (path.includes(node)) return [...path.slice(path.indexOf(node)), node];
    if (done.has(node)) return null;
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next, [...path, node]);
      if (cycle) return cycle;
    }
    done.add(node);
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return null;
}

/** Every import between files of src/, `import type` included: a cycle of files is one still. */
function fileGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles()) {
    const text = readFileSync(`${SRC}/${file}`, 'utf8');
    const edges = new Set<string>();
    for (const m of text.matchAll(/(?:\bfrom|\bimport\()\s*'(\.\.?\/[^']+)'/g))
      edges.add(posix.normalize(posix.join(posix.dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
    graph.set(file, edges);
  }
  return graph;
}

/**
 * The rooms of src/master/: `workers/stats` is not one, `workers` is; a file at the top (the
 * arbiter and its start) is `top`, which every room may be imported by and none may import.
 */
function masterRooms(): Map<string, Set<string>> {
  const rooms = new Map<string, Set<string>>();
  const roomOf = (path: string) => {
    const parts = path.split('/');
    return parts.length > 2 ? parts[1]! : 'top';
  };
  for (const [file, edges] of fileGraph()) {
    if (!file.startsWith('master/')) continue;
    const from = roomOf(file);
    if (from === 'top') continue;
    const out = rooms.get(from) ?? new Set<string>();
    rooms.set(from, out);
    for (const to of edges)
      if (to.startsWith('master/') && roomOf(to) !== from) out.add(roomOf(to));
  }
  return rooms;
}

function masterTable(): Map<string, Set<string>> {
  const design = readFileSync(`${ROOT}docs/design.md`, 'utf8');
  const table = new Map<string, Set<string>>();
  for (const m of design.matchAll(/^\| `src\/master\/([\w-]+)\/` \|.*\| ([^|]+) \|$/gm)) {
    const allowed = m[2]!.trim() === 'nothing' ? [] : m[2]!.split(',').map((s) => s.trim());
    table.set(m[1]!, new Set(allowed.map((s) => s.replace(/^`|`$/g, ''))));
  }
  return table;
}

const sorted = (set: ReadonlySet<string> | undefined) => [...(set ?? [])].sort();

describe('module imports', () => {
  const graph = actualGraph();
  const table = readmeTable();

  it('reads the real graph (worker and router import the shared child folder)', () => {
    assert.ok(graph.get('worker')?.has('child'));
    assert.ok(graph.get('router')?.has('child'));
    assert.ok(table.size >= 10, `docs/design.md's table has ${table.size} rows`);
  });

  it('has no cycle', () => {
    assert.equal(findCycle(graph), null);
    assert.equal(findCycle(table), null, 'docs/design.md allows a cycle');
    assert.deepEqual(
      findCycle(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set(['a'])],
        ]),
      ),
      ['a', 'b', 'a'],
    );
  });

  it('has no cycle between files', () => {
    const files = fileGraph();
    assert.ok(
      files.get('master/arbiter.ts')?.has('master/workers/worker-table.ts'),
      'reads the graph',
    );
    assert.equal(findCycle(files)?.join(' -> ') ?? null, null);
  });

  it("matches docs/design.md's table of what each module may import", () => {
    assert.deepEqual(sorted(new Set(table.keys())), sorted(new Set(graph.keys())), 'modules');
    for (const [module, edges] of graph)
      assert.deepEqual(sorted(edges), sorted(table.get(module)), `what ${module} imports`);
  });

  it("src/master/'s folders import one way, as docs/design.md's table of its rooms says", () => {
    const rooms = masterRooms();
    const table = masterTable();
    assert.ok(rooms.get('workers')?.has('decisions'), 'reads the rooms');
    assert.equal(findCycle(rooms)?.join(' -> ') ?? null, null);
    assert.equal(findCycle(table)?.join(' -> ') ?? null, null, 'docs/design.md allows a cycle');
    assert.deepEqual(sorted(new Set(table.keys())), sorted(new Set(rooms.keys())), 'rooms');
    for (const [room, edges] of rooms)
      assert.deepEqual(sorted(edges), sorted(table.get(room)), `what master/${room}/ imports`);
  });

  it('never imports the public entry point from inside', () => {
    for (const [module, edges] of graph) assert.ok(!edges.has('index'), module);
  });
});
