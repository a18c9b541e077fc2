/**
 * Value parsers shared by every layer: a CLI flag, an environment variable and a config-file value
 * go through the same function, so a value means the same thing wherever it was written.
 * Each throws an Error whose message says what was expected; the resolver adds the setting name.
 */
export type Parser<T> = (value: unknown) => T;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function int(opts: { min?: number; max?: number } = {}): Parser<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return (value) => {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)
          ? Number(value)
          : Number.NaN;
    if (!Number.isInteger(n)) throw new Error(`expected an integer, got ${describe(value)}`);
    if (n < min || n > max) {
      throw new Error(
        max === Number.MAX_SAFE_INTEGER
          ? `expected an integer >= ${min}, got ${n}`
          : `expected an integer between ${min} and ${max}, got ${n}`,
      );
    }
    return n;
  };
}

export function seconds(opts: { min?: number } = {}): Parser<number> {
  const { min = 0 } = opts;
  return (value) => {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
          ? Number(value)
          : Number.NaN;
    if (!Number.isFinite(n))
      throw new Error(`expected a number of seconds, got ${describe(value)}`);
    if (n < min) throw new Error(`expected a number of seconds >= ${min}, got ${n}`);
    return n;
  };
}

/**
 * Seconds where 0 means off and anything else must be at least `min`: a deadline shorter than the
 * thing it watches can take (a heartbeat, say) would fire every time.
 */
export function secondsOrOff(min: number): Parser<number> {
  const any = seconds();
  return (value) => {
    const n = any(value);
    if (n !== 0 && n < min)
      throw new Error(`expected 0 (off) or a number of seconds >= ${min}, got ${n}`);
    return n;
  };
}

/** A share: a number greater than 0 and at most 1 (a statsd sample rate). */
export const fraction: Parser<number> = (value) => {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!(n > 0 && n <= 1))
    throw new Error(`expected a number greater than 0 and at most 1, got ${describe(value)}`);
  return n;
};

export const bool: Parser<boolean> = (value) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  }
  throw new Error(`expected true or false, got ${describe(value)}`);
};

export const string: Parser<string> = (value) => {
  if (typeof value !== 'string' || value === '')
    throw new Error(`expected a non-empty string, got ${describe(value)}`);
  return value;
};

export function nullable<T>(parser: Parser<T>): Parser<T | null> {
  return (value) => (value === null ? null : parser(value));
}

export function oneOf<T extends string>(choices: readonly T[]): Parser<T> {
  return (value) => {
    if (typeof value === 'string' && (choices as readonly string[]).includes(value.toLowerCase())) {
      return value.toLowerCase() as T;
    }
    throw new Error(`expected one of ${choices.join(', ')}, got ${describe(value)}`);
  };
}

/** A repeatable setting: an array in a config file, repeated flags, or a comma list in env. */
export function list<T>(item: Parser<T>): Parser<readonly T[]> {
  return (value) => {
    const items = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '')
        : [value];
    return items.map((v) => item(v));
  };
}

export const keyValue: Parser<readonly [string, string]> = (value) => {
  if (typeof value !== 'string') throw new Error(`expected KEY=VALUE, got ${describe(value)}`);
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`expected KEY=VALUE, got ${describe(value)}`);
  return [value.slice(0, eq), value.slice(eq + 1)];
};

/**
 * `env`: KEY=VALUE strings (one, a comma list or an array), or in a config file an object
 * `{ KEY: 'value' }` as PM2 and dotenv users write it; numbers and booleans become their text.
 */
export const keyValues: Parser<readonly (readonly [string, string])[]> = (value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return list(keyValue)(value);
  return Object.entries(value).map(([key, v]) => {
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw new Error(`expected a string for ${key}, got ${describe(v)}`);
    return keyValue(`${key}=${String(v)}`);
  });
};

/** A umask: `0o022`, `022` or `18`, as Gunicorn accepts. */
export const octal: Parser<number> = (value) => {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^(0o?[0-7]+|[1-9]\d*|0)$/i.test(value.trim())
        ? value.trim().startsWith('0')
          ? Number.parseInt(value.trim().replace(/^0o?/i, '') || '0', 8)
          : Number(value)
        : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0o777)
    throw new Error(
      `expected an octal mode such as 0o022, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    );
  return n;
};
