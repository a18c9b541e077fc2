/**
 * The assumptions about Node's private behaviour that tsgun checks at start (checks.ts), each
 * with its fallback or refusal. The tests force each check to fail with TSGUN_TEST_BREAK_PLATFORM
 * (a comma-separated list of these names): a test-only switch, which a process that sees it set
 * says it honours in a warning, so that it is never on by accident unnoticed.
 */
export const ASSUMPTIONS = {
  /** net._createServerHandle binds without listening (the master; no public path: refused). */
  bind: 'net._createServerHandle binds a socket without listening on it',
  /** Server#_listen2 listens on an inherited fd in a cluster worker (no public path: refused). */
  'listen-fd': 'net.Server#_listen2 listens on an inherited fd inside a cluster worker',
  /** _connections, _emitCloseIfDrained, _server and _getActiveHandles keep a server's books. */
  books:
    'a net.Server counts its connections (_connections), calls _emitCloseIfDrained after each is destroyed, and process._getActiveHandles lists them',
  /** An http.Server's 'listening' event starts its header and request timeout checks. */
  timeouts: "an http.Server's 'listening' event starts its headersTimeout/requestTimeout checks",
  /** A stream handle's read callback and streamBaseState give each read's bytes. */
  'ipc-read':
    "a stream handle's onread callback is given each read's bytes in an ArrayBuffer at the offset and length of stream_wrap's streamBaseState",
} as const;
export type Assumption = keyof typeof ASSUMPTIONS;

export const BREAK_ENV = 'TSGUN_TEST_BREAK_PLATFORM';

const broken = new Set(
  (process.env[BREAK_ENV] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** Whether a test asked for this assumption's check to fail. */
export const forcedBroken = (assumption: Assumption): boolean => broken.has(assumption);

/** The names a test asked to break, for the warning each process logs once. */
export const forcedNames = (): readonly string[] => [...broken];
