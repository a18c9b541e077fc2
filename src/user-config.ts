import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HookName, SettingName, Settings } from './config/registry.js';
import type { ServerFacade, WorkerFacade } from './hooks.js';

/**
 * What a config file may contain, typed for the user's editor (`defineConfig()`), derived from
 * the registry: every setting a file may give (all but `config` and the command-line-only
 * switches), with the value a file writes, and the server hooks with their arguments.
 */

/** The server hooks with their arguments; `satisfies` below keeps them the registry's set. */
export interface ServerHooks {
  onStarting(server: ServerFacade): unknown;
  onReload(server: ServerFacade): unknown;
  whenReady(server: ServerFacade): unknown;
  preFork(server: ServerFacade, worker: WorkerFacade): unknown;
  postFork(server: ServerFacade, worker: WorkerFacade): unknown;
  postWorkerInit(worker: WorkerFacade): unknown;
  workerInt(worker: WorkerFacade): unknown;
  workerAbort(worker: WorkerFacade): unknown;
  preExec(server: ServerFacade): unknown;
  childExit(server: ServerFacade, worker: WorkerFacade): unknown;
  workerExit(worker: WorkerFacade): unknown;
  nworkersChanged(server: ServerFacade, newValue: number, oldValue: number): unknown;
  onExit(server: ServerFacade): unknown;
  preRequest(worker: WorkerFacade, req: IncomingMessage): unknown;
  postRequest(worker: WorkerFacade, req: IncomingMessage, res: ServerResponse): unknown;
}

/** A compile error here means ServerHooks and the registry's HOOKS list differ. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : never;
export const HOOKS_MATCH_REGISTRY: SameKeys<ServerHooks, Record<HookName, unknown>> = true;

/** Settings only a command line gives (the registry's `cliOnly`), and `config` itself. */
type NotInFile = 'config' | 'only' | 'checkConfig' | 'printConfig';
export const NOT_IN_FILE: readonly SettingName[] = ['config', 'only', 'checkConfig', 'printConfig'];

/** How a file writes a value whose resolved type is T: lists as arrays or "a,b" strings. */
type FileValue<T> = T extends readonly unknown[]
  ? string | readonly string[]
  : T extends number
    ? number | string
    : T extends boolean
      ? boolean
      : T extends string
        ? T
        : T extends null
          ? null
          : string;

/** A config file's settings (camelCase, the canonical spelling), every key optional. */
export type UserSettings = {
  [K in Exclude<SettingName, NotInFile | HookName | 'env'>]?: FileValue<Settings[K]>;
} & {
  /** KEY=VALUE strings, or an object of variables as PM2 and dotenv write them. */
  env?: FileValue<Settings['env']> | Readonly<Record<string, string | number | boolean>>;
};

/** Everything a config file exports: settings and server hooks. */
export type UserConfig = UserSettings & { [K in HookName]?: ServerHooks[K] | null };

/**
 * Identity, for types: `export default defineConfig({ workers: 4, onStarting(server) {} })`
 * gives completion and flags a misspelt key. (One signature, so tsc names the wrong key itself;
 * a file that exports a function returns `defineConfig({...})` from it.)
 */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
