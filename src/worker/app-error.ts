import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateSyntaxError, type SourceFrame } from '../config/syntax-location.js';
import { ErrorCode, type ErrorCodeValue, TsgunError } from '../errors.js';

/**
 * An app that fails to load is reported once, by the worker, with what a person needs to fix it:
 * the file, line and column, the source line with a caret (syntax errors) or the app's own stack
 * frames (thrown errors). `detail` holds the lines after the one-line message.
 */
export class AppLoadError extends TsgunError {
  readonly detail: string | null;
  constructor(code: ErrorCodeValue, message: string, detail: string | null) {
    super(code, message);
    this.detail = detail;
  }
}

/** The frames of a stack that belong to the app: not Node's internals, not tsgun's own files. */
export function appFrames(stack: string, tsgunRoot: string): string[] {
  return stack
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .filter((l) => !/\(node:|at (async )?node:|\(<anonymous>\)/.test(l))
    .filter((l) => !l.includes(tsgunRoot))
    .map((l) => l.trim());
}

/** `file:///x/app.mjs:3:7` or `/x/app.mjs:3:7` in a frame, as a path relative to the cwd. */
export function frameLocation(frame: string): string | null {
  const m = /(file:\/\/\/?[^\s)]+|\/[^\s)]+):(\d+):(\d+)\)?$/.exec(frame);
  if (!m) return null;
  const path = m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!;
  return `${shortPath(path)}:${m[2]}:${m[3]}`;
}

function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** The two lines of a code frame, with the line number in the gutter. */
export function codeFrame(f: SourceFrame): string {
  const gutter = String(f.line);
  return `  ${gutter} | ${f.source}\n  ${' '.repeat(gutter.length)} | ${f.caret}`;
}

/** The source line and caret under a thrown error's first app frame, if the file is readable. */
function frameAt(location: string): string | null {
  const m = /^(.*):(\d+):(\d+)$/.exec(location);
  if (!m) return null;
  try {
    const source = readFileSync(m[1]!, 'utf8').split('\n')[Number(m[2]) - 1];
    if (source === undefined) return null;
    const caret = `${' '.repeat(Number(m[3]) - 1)}^`;
    return codeFrame({ file: m[1]!, line: Number(m[2]), column: Number(m[3]), source, caret });
  } catch {
    return null;
  }
}

/** tsgun's compiled files (dist/src): their frames are noise in an app's stack. */
const TSGUN_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** `what` is e.g. `cannot load app module app.mjs` or `factory app.cjs:createApp() threw`. */
export function appLoadError(what: string, err: unknown, file: string | null): AppLoadError {
  if (!(err instanceof Error)) {
    return new AppLoadError(ErrorCode.APP_LOAD, `${what}: ${String(err)}`, null);
  }
  const kind = err.name !== 'Error' ? `${err.name}: ` : '';
  const message = `${what}: ${kind}${err.message.split('\n')[0]}`;
  if (err instanceof SyntaxError && file !== null) {
    const at = locateSyntaxError(err, file);
    if (at) {
      const file = shortPath(at.file.replace(/^file:\/\//, ''));
      if (at.column === 0) {
        // Node's `file:N` past the last line: nothing to show but where the file ended.
        const hint = /end of input/i.test(err.message) ? ': a bracket or quote is not closed' : '';
        return new AppLoadError(
          ErrorCode.APP_LOAD,
          `${message} (at ${file}:${at.line}, the end of the file${hint})`,
          null,
        );
      }
      return new AppLoadError(
        ErrorCode.APP_LOAD,
        `${message} (at ${file}:${at.line}:${at.column})`,
        codeFrame(at),
      );
    }
    return new AppLoadError(ErrorCode.APP_LOAD, message, null);
  }
  const frames = appFrames(err.stack ?? '', TSGUN_ROOT);
  const where = frames.length > 0 ? frameLocation(frames[0]!) : null;
  const detail = [where ? frameAt(where) : null, ...frames.map((f) => `    ${f}`)]
    .filter((l) => l !== null)
    .join('\n');
  return new AppLoadError(
    ErrorCode.APP_LOAD,
    where ? `${message} (at ${where})` : message,
    detail || null,
  );
}
