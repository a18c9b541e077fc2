import type { IncomingMessage } from 'node:http';

/**
 * Gunicorn's --limit-request-* checks, shared by the worker (direct mode) and the router, which
 * answers them itself so that a refused request never costs a worker a round trip and the
 * client's connection closes in both modes.
 */

/** The --limit-request-* settings (child/ does not read the config module). */
export interface RequestLimits {
  readonly limitRequestLine: number;
  readonly limitRequestFields: number;
  readonly limitRequestFieldSize: number;
}

/** Node's own cap on a request's header block (--max-http-header-size). */
export const NODE_HEADER_CAP = 16 * 1024;

/**
 * The header block Node must accept so that --limit-request-field-size, not Node's 16 KiB cap,
 * decides: the request line, one field of the largest size, and 16 KiB for the other fields.
 * 0 keeps Node's default.
 */
export function maxHeaderSizeFor(config: Omit<RequestLimits, 'limitRequestFields'>): number {
  if (config.limitRequestFieldSize + 2 <= NODE_HEADER_CAP) return 0;
  return Math.min(
    config.limitRequestLine + config.limitRequestFieldSize + 2 + NODE_HEADER_CAP,
    2 ** 31 - 1,
  );
}

/** Gunicorn's request limits; returns the status to answer with, or 0 when the request is fine. */
export function checkLimits(req: IncomingMessage, config: RequestLimits): number {
  const { limitRequestLine, limitRequestFields, limitRequestFieldSize } = config;
  // "GET /path HTTP/1.1" is method + space + URL + space + 8.
  if (
    limitRequestLine > 0 &&
    (req.method?.length ?? 0) + (req.url?.length ?? 0) + 10 > limitRequestLine
  )
    return 414;
  const raw = req.rawHeaders;
  if (limitRequestFields > 0 && raw.length / 2 > limitRequestFields) return 431;
  if (limitRequestFieldSize > 0) {
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length + raw[i + 1]!.length + 2 > limitRequestFieldSize) return 431;
    }
  }
  return 0;
}

/** The text of a limit's refusal. */
export function limitText(status: number): string {
  return status === 414 ? 'Request-URI Too Long\n' : 'Request Header Fields Too Large\n';
}
