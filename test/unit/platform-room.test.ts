import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : /\.c?ts$/.test(e.name)
        ? [join(dir, e.name)]
        : [],
  );
}

/** The code of a file without its comments (what the rule is about is code, not prose). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

/** What only src/platform/ may do: Node's underscore members, prototype patches, async resources. */
const RULES: [string, RegExp][] = [
  ['an underscore member', /\.\s*_[A-Za-z]\w*/],
  ['a prototype patch', /\.prototype\.\w+\s*=[^=]/],
  ["Node's current async resource", /executionAsyncResource/],
];

describe('the platform room', () => {
  const files = sources(SRC);

  it('nothing outside src/platform/ touches a private member of Node, patches a prototype or reads async resources', () => {
    const found: string[] = [];
    for (const file of files) {
      const name = relative(SRC, file);
      if (name.startsWith('platform/')) continue;
      const lines = code(readFileSync(file, 'utf8')).split('\n');
      lines.forEach((line, i) => {
        for (const [what, re] of RULES)
          if (re.test(line)) found.push(`${name}:${i + 1}: ${what}: ${line.trim()}`);
      });
    }
    assert.deepEqual(found, []);
  });

  it('the rule sees what it forbids (it is not vacuous)', () => {
    const sample = code(
      'const x = (s as any)._handle;\nServer.prototype.listen = f;\n// ._comment only\n',
    );
    assert.ok(RULES[0]![1].test(sample));
    assert.ok(RULES[1]![1].test(sample));
    assert.ok(!/_comment/.test(sample));
    assert.ok(
      files.some((f) => f.includes('/platform/')),
      'the room exists',
    );
  });
});
