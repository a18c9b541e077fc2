import { spawnSync } from 'node:child_process';

/**
 * Where a syntax error is, in a module (the app, read by a worker; a JS config file, read by the
 * master) or in JSON (a config file): a person fixes a file at a line and column, not at "position
 * 412".
 */

export interface SourceFrame {
  readonly file: string;
  readonly line: number;
  /** 0 when Node points at no column: the end of the file (an unclosed bracket). */
  readonly column: number;
  readonly source: string;
  readonly caret: string;
}

/**
 * Node's header for a syntax error: `FILE:LINE`, the source line, a line of carets, a blank line.
 * CommonJS errors carry it on top of err.stack; `node --check` prints it for ES modules too. At
 * the end of the input (a missing `}`) the line is past the last one, and source and carets are
 * empty.
 */
export function parseSyntaxHeader(text: string): SourceFrame | null {
  const m = /^(.+):(\d+)\n(.*)\n([ \t]*\^*)[ \t]*\n/.exec(text.replace(/^\s*\n/, ''));
  if (!m) return null;
  const caret = m[4]!;
  return {
    file: m[1]!,
    line: Number(m[2]),
    column: caret.indexOf('^') + 1,
    source: m[3]!,
    caret: caret.trimEnd(),
  };
}

/**
 * Where a SyntaxError is. Node 20 gives ES module syntax errors no location at all, so the file
 * is checked again with `node --check`, which prints the same header CommonJS errors carry.
 */
export function locateSyntaxError(err: Error, file: string): SourceFrame | null {
  const fromStack = parseSyntaxHeader(err.stack ?? '');
  if (fromStack) return fromStack;
  const check = spawnSync(process.execPath, ['--check', file], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return parseSyntaxHeader(check.stderr ?? '');
}

/**
 * The line and column (1-based) of a JSON.parse error in `text`. Newer V8 says `(line L column
 * C)`; Node 20's V8 says only `at position N` (an offset into the text); "Unexpected end of JSON
 * input" has neither and means the end of the text.
 */
export function jsonErrorLocation(
  message: string,
  text: string,
): { line: number; column: number } | null {
  const lc = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const at = /at position (\d+)/.exec(message);
  const position = at
    ? Number(at[1])
    : /end of JSON input/i.test(message)
      ? text.trimEnd().length
      : null;
  if (position === null || position > text.length) return null;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  return { line, column: position - before.lastIndexOf('\n') };
}
