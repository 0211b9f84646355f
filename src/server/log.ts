// JSON logs: one object a line ({ time, level, msg, ...fields }) on a stream (stderr by default),
// from a least level on (--log-level, log.level).
// Secrets never reach them: fields named like secrets are replaced, and URLs lose their credentials.

import { LOG_LEVELS, stripCredentials, type LogLevel } from '../config/server-config.ts';

export type { LogLevel } from '../config/server-config.ts';

export interface Logger {
  log(level: LogLevel, msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|credential/i;

/** A copy of `value` safe to log: secret-named fields masked, credentials cut out of URLs. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return stripCredentials(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '***' : redact(v, depth + 1);
  return out;
}

/** Lines of `least` and above (by default all) to `stream`, one JSON object a line. */
export function createJsonLogger(
  stream: { write(s: string): unknown } = process.stderr,
  least: LogLevel = 'debug',
): Logger {
  const from = LOG_LEVELS.indexOf(least);
  return {
    log(level, msg, fields = {}) {
      if (LOG_LEVELS.indexOf(level) < from) return;
      const line = {
        time: new Date().toISOString(),
        level,
        msg: stripCredentials(msg),
        ...(redact(fields) as object),
      };
      stream.write(`${JSON.stringify(line)}\n`);
    },
  };
}

export const silentLogger: Logger = { log: () => undefined };
