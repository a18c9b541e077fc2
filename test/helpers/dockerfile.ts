import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Runs a Dockerfile's build steps the way Docker would, without a Docker engine: each stage is a
 * directory standing for its filesystem root, WORKDIR/COPY/ENV set up the same files and
 * environment, and RUN runs the same command with `sh -c` there. Enough for the shipped
 * Dockerfile (FROM ... AS, WORKDIR, COPY [--from], RUN, ENV, USER, EXPOSE, CMD in exec form).
 */
export interface BuiltImage {
  /** The final stage's WORKDIR on this machine. */
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly cmd: readonly string[];
  /** Every RUN command, in order, as it was run. */
  readonly runs: readonly string[];
}

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
export function instructions(text: string): [string, string][] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const space = l.indexOf(' ');
      return [l.slice(0, space).toUpperCase(), l.slice(space + 1).trim()];
    });
}

/** COPY . . skips what .dockerignore lists (top-level names only: enough for node_modules). */
function ignored(context: string): Set<string> {
  const file = join(context, '.dockerignore');
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim().replace(/^\/|\/$/g, ''))
      .filter(Boolean),
  );
}

/** Async, so that a server in the test's own process (a tarball URL) can answer the RUNs. */
export async function buildImage(
  dockerfile: string,
  context: string,
  scratch: string,
): Promise<BuiltImage> {
  const stages = new Map<string, string>();
  let root = '';
  let workdir = '/';
  let env: Record<string, string> = {};
  let cmd: string[] = [];
  const runs: string[] = [];
  const here = () => join(root, workdir);
  for (const [op, rest] of instructions(readFileSync(dockerfile, 'utf8'))) {
    switch (op) {
      case 'FROM': {
        const [, name] = /\S+(?:\s+AS\s+(\S+))?/i.exec(rest)!;
        root = join(scratch, `stage-${stages.size}`);
        mkdirSync(root, { recursive: true });
        stages.set(name ?? `#${stages.size}`, root);
        workdir = '/';
        env = {};
        break;
      }
      case 'WORKDIR':
        workdir = rest;
        mkdirSync(here(), { recursive: true });
        break;
      case 'ENV': {
        const [key, value] = rest.split('=');
        env[key!] = value!;
        break;
      }
      case 'COPY': {
        const words = rest.split(/\s+/);
        const from = words[0]!.startsWith('--from=') ? words.shift()!.slice(7) : null;
        const dest = join(here(), words.pop()!);
        for (const src of words) {
          const source = from ? join(stages.get(from)!, src) : join(context, src);
          if (src === '.') {
            const skip = ignored(context);
            for (const name of readdirSync(source)) {
              if (!skip.has(name))
                cpSync(join(source, name), join(dest, name), { recursive: true });
            }
          } else {
            const target = dest.endsWith('/') || words.length > 1 ? join(dest, src) : dest;
            cpSync(source, target, { recursive: true });
          }
        }
        break;
      }
      case 'RUN':
        runs.push(rest);
        await promisify(execFile)('sh', ['-c', rest], {
          cwd: here(),
          env: { ...process.env, ...env },
          timeout: 180_000,
        });
        break;
      case 'CMD':
        cmd = JSON.parse(rest) as string[];
        break;
      case 'USER':
      case 'EXPOSE':
        break;
      default:
        throw new Error(`the Dockerfile emulation does not know ${op}`);
    }
  }
  return { workdir: here(), env, cmd, runs };
}
