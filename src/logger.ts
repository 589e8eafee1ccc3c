import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { isSecretKey, loggable, REDACTED } from './logging/redaction';
import { BatchedDestination } from './logging/batched-destination';

/** Severity levels in increasing order. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/**
 * A structured logger writing one JSON object per line: `level`, ISO `time`, the bound fields, the line's fields and
 * `message`. Error fields keep name, message, stack, code and cause; secrets are redacted (see `logging/redaction`).
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger adding `fields` to every line (a request id, a training id, a client id). */
  child(fields: LogFields): Logger;
}

/** Where lines go: stderr unless a test captures them. */
export type LogDestination = DestinationStream;

/** Keys of every line that a field must not shadow: a field of that name is written with a leading underscore. */
const RESERVED_KEYS = new Set(['level', 'time', 'message']);

let stderr: DestinationStream | undefined;

/**
 * Creates a logger that drops lines below `level`; `base` fields are added to every line. Lines go to stderr by
 * default, gathered for up to 10 ms and written together, and before the process exits, so the error a
 * process logs right before `process.exit()` is not lost (`logging/batched-destination`).
 */
export function createLogger(
  level: LogLevel,
  base: LogFields = {},
  destination: LogDestination = stderrDestination(),
): Logger {
  const root = pino(
    {
      level,
      base: null,
      messageKey: 'message',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Fields are made loggable (and secrets redacted) before pino sees them; its default `err` serializer would
      // turn `name` into `type`.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return wrap(root.child(fieldsOf(base)));
}

function wrap(target: PinoLogger): Logger {
  const at =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (target.isLevelEnabled(level)) {
        target[level](fields ? fieldsOf(fields) : {}, message);
      }
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => wrap(target.child(fieldsOf(fields))),
  };
}

function fieldsOf(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[RESERVED_KEYS.has(key) ? `_${key}` : key] =
      isSecretKey(key) && value !== undefined ? REDACTED : loggable(value);
  }
  return out;
}

/** One stderr destination per process: lines gathered for up to 10 ms are written together. */
function stderrDestination(): DestinationStream {
  if (!stderr) {
    // Node opens a pipe on descriptor 2 without blocking once process.stderr is first read: a full pipe then refuses
    // a write (which the destination holds and retries) instead of stopping the thread until its reader reads.
    void process.stderr;
    stderr = new BatchedDestination(2);
  }
  return stderr;
}
