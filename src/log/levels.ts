/** Gunicorn's log level names (--log-level); src/log/logger.ts maps them onto pino's. */
export const LOG_LEVELS = ['debug', 'info', 'warning', 'error', 'critical'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
