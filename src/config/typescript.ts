import { extname } from 'node:path';
import { ErrorCode, TsgunError } from '../errors.js';

/**
 * TypeScript files (the app, tsgun.config.ts) run without a build step on a Node that strips
 * types: on by default from 22.18 and in 24 (`process.features.typescript` is 'strip' there). An
 * older Node fails the import with ERR_UNKNOWN_FILE_EXTENSION in every worker, a crash loop; the
 * master checks first and says what to do in one line.
 */
export const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts'] as const;

export function isTypeScriptFile(path: string): boolean {
  return (TYPESCRIPT_EXTENSIONS as readonly string[]).includes(extname(path));
}

/** Flags that load code before the app, through which a loader such as tsx registers itself. */
const LOADER_FLAG = /(^|\s)(--import|--loader|--experimental-loader|--require|-r)(=|\s|$)/;

export interface RuntimeFacts {
  readonly version: string;
  /** process.features.typescript: 'strip' or 'transform' when Node runs .ts, else false/undefined. */
  readonly typescript: unknown;
  /** process.execArgv and NODE_OPTIONS, joined: a loader given there is trusted to handle .ts. */
  readonly nodeFlags: string;
}

export function currentRuntime(env: NodeJS.ProcessEnv = process.env): RuntimeFacts {
  const features = process.features as { typescript?: unknown };
  return {
    version: process.version,
    typescript: features.typescript,
    nodeFlags: [...process.execArgv, env['NODE_OPTIONS'] ?? ''].join(' '),
  };
}

/** Whether this Node can import a TypeScript file: it strips types, or a loader was given. */
export function canRunTypeScript(facts: RuntimeFacts): boolean {
  return Boolean(facts.typescript) || LOADER_FLAG.test(facts.nodeFlags);
}

/** Throws TSGUN_ERR_TYPESCRIPT (exit 4) for a TypeScript file this Node cannot run. */
export function checkTypeScript(what: string, path: string, facts = currentRuntime()): void {
  if (!isTypeScriptFile(path) || canRunTypeScript(facts)) return;
  throw new TsgunError(
    ErrorCode.TYPESCRIPT,
    `${what} ${path} is TypeScript and Node ${facts.version} cannot run it: use Node 22.18+ or 24 (they strip types), compile it to JavaScript, or start tsgun with NODE_OPTIONS="--import tsx"`,
  );
}
