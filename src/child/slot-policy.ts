/**
 * Pure decisions about held connections: which one gives its slot up when the worker is full, and
 * which slow client has stopped making progress. The effectful side is src/child/slots.ts.
 */

/** What the policy knows of one open connection at one instant. */
export interface ConnView {
  /** A request is in the app's hands (its response not finished). */
  readonly responding: boolean;
  /** The request body is still arriving and the app has taken all that came. */
  readonly readingBody: boolean;
  /** Response bytes are queued that the client has not taken yet. */
  readonly sending: boolean;
  /** At least one response was written on it (an idle keep-alive connection, when not responding). */
  readonly served: boolean;
  /** When a byte was last read from it (or when it was accepted), in ms. */
  readonly readAt: number;
  /** Accepted, and not a byte read yet: its request may be waiting in the kernel to be read. */
  readonly untouched: boolean;
  readonly acceptedAt: number;
  /** When queued response bytes last went out (or when sending began), in ms. */
  readonly writeAt: number;
}

export interface SlowLimits {
  /** --header-timeout: a connection that never sent a whole request is closed after this. */
  readonly headerMs: number;
  /** --client-body-timeout: no body byte for this long while the app waits for the body. */
  readonly bodyMs: number;
  /** --send-timeout: the client took no response byte for this long. */
  readonly sendMs: number;
}

export type Verdict = 'keep' | 'header' | 'body' | 'send';

/**
 * nginx's client_body_timeout and send_timeout: both measure time without progress, not the
 * whole transfer, so a slow but moving client is never cut. A connection that has not yet sent a
 * byte of a request is bounded by --header-timeout (Node's headersTimeout only starts at the
 * first byte). An app that is just slow to answer is not the client's fault: kept.
 */
export function judge(c: ConnView, now: number, limits: SlowLimits): Verdict {
  if (c.responding) {
    if (c.sending && limits.sendMs > 0 && now - c.writeAt >= limits.sendMs) return 'send';
    if (c.readingBody && limits.bodyMs > 0 && now - c.readAt >= limits.bodyMs) return 'body';
    return 'keep';
  }
  if (!c.served && limits.headerMs > 0 && now - c.readAt >= limits.headerMs) return 'header';
  return 'keep';
}

/**
 * How long a connection with nothing read yet is spared: connections accepted in one go are read
 * after all of them are accepted, so a client whose request is already in the kernel would look
 * silent. A connection that sent part of a request had it parsed at once: it is not spared.
 */
export const UNTOUCHED_GRACE_MS = 1000;

/**
 * The connection to close so that a new one gets a slot (nginx frees its least recently used
 * keep-alive connections when it runs short): among those not in a request, the one that sent
 * nothing for the longest time; on a tie an idle keep-alive one (it was served already) before
 * one that never finished a request, then the older. Connections in a request, and those just
 * accepted with nothing read yet, are never chosen. Returns null when none can be: the worker is
 * really busy.
 */
export function pickVictim<K>(
  views: Iterable<readonly [K, ConnView]>,
  spare: K | null,
  now: number,
): K | null {
  let best: K | null = null;
  let bestView: ConnView | null = null;
  for (const [key, view] of views) {
    if (key === spare || view.responding) continue;
    if (view.untouched && now - view.acceptedAt < UNTOUCHED_GRACE_MS) continue;
    // Ties are broken explicitly, not by the order of the walk (the caller's to choose).
    if (
      bestView === null ||
      view.readAt < bestView.readAt ||
      (view.readAt === bestView.readAt &&
        (view.served !== bestView.served ? view.served : view.acceptedAt < bestView.acceptedAt))
    ) {
      best = key;
      bestView = view;
    }
  }
  return best;
}
