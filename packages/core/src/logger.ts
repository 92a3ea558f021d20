/** Structured fields attached to a log line. Never put secrets here. */
export type LogFields = Record<string, unknown>;

/** The logger every awskit library accepts. Libraries never write to the console themselves. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const noop = () => {};
/** A logger that drops everything (the default of every library). */
export const noopLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Options for {@link createConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lowest level written. @default 'info' */
  level?: LogLevel;
  /** Where lines go. @default process.stderr */
  stream?: { write(chunk: string): unknown };
  /** A prefix such as `[awskit]`. */
  prefix?: string;
}

/** One field value on a log line; logging must never throw (circular objects, BigInt) or lose an error's text. */
function formatField(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return v.message;
  if (typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** A small line logger for apps (the CLI, the server): `level message key=value ...` on stderr. */
export function createConsoleLogger({
  level = 'info',
  stream = process.stderr,
  prefix,
}: ConsoleLoggerOptions = {}): Logger {
  const min = LEVELS[level];
  const write = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (LEVELS[lvl] < min) return;
    const kv = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${formatField(v)}`)
          .join(' ')
      : '';
    stream.write(
      `${prefix ? `${prefix} ` : ''}${lvl === 'info' ? '' : `${lvl}: `}${message}${kv ? ` ${kv}` : ''}\n`,
    );
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
