import { CommanderError } from 'commander';
import { UsageError } from './arguments';

/**
 * The exit statuses of `boarding`, one meaning each, so a script (cron, CI, the demo) can tell
 * "fix the command line" from "fix the settings" from "try again later" from "the Ministry did
 * not get the day". `boarding --help` and the README show this table.
 */
export const EXIT = {
  OK: 0,
  /** The run failed for another reason (a bug, a refused input file, a lock held too long…). */
  FAILED: 1,
  /** The command line: an unknown command or option, a malformed argument. */
  USAGE: 2,
  /** A setting is missing or malformed, or the PII keys are not the database's. */
  CONFIG: 3,
  /** PostgreSQL, Redis, Kafka or the SFTP server could not be reached. */
  UNREACHABLE: 4,
  /** A day's file was built but its delivery failed for good (the ledger says FAILED). */
  DELIVERY_FAILED: 5,
} as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  done
  1  failed (any other error)
  2  usage: unknown command or option, malformed argument
  3  configuration: a setting missing or malformed, PII keys not the database's
  4  unreachable: PostgreSQL, Redis, Kafka or the SFTP server could not be reached
  5  delivery failed: the day's file was not delivered (the ledger says FAILED)`;

/**
 * A --from/--to run stopped at a day that failed: the days before it are done (and were shown),
 * the days after it were not run. Keeps the failure's code and cause, so the exit status is the
 * failure's (a delivery that failed is 5, an unreachable database 4).
 */
export class RangeStoppedError extends Error {
  readonly code: string | undefined;
  constructor(day: string, doneBefore: number, notRun: string[], cause: unknown) {
    const c = cause as { code?: unknown; message?: unknown };
    const rest =
      notRun.length === 0 ? '' : `; not run: ${notRun[0]}${notRun.length > 1 ? `..${notRun.at(-1)}` : ''}`;
    super(
      `${day}: ${typeof c.message === 'string' ? c.message : String(cause)} (days done before it: ${doneBefore}${rest})`,
      { cause },
    );
    this.name = 'RangeStoppedError';
    this.code = typeof c.code === 'string' ? c.code : undefined;
  }
}

export type Failure = { exitCode: number; code: string; message: string };

/** Codes of errors that mean the settings are wrong, not the run. */
const CONFIG_CODES = new Set([
  'CONFIG_INVALID',
  'PII_KEY_FILE_UNREADABLE',
  'PII_KEY_FILE_INVALID',
  'PII_INDEX_KEY_MISMATCH',
  'PII_DATA_KEY_MISMATCH',
]);

/** Node's socket and resolver codes for a server that is not there (or not answering). */
const UNREACHABLE_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EPIPE',
]);

// kafkajs names its errors rather than coding them; these mean no broker answered.
const UNREACHABLE_KAFKA = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
]);

// What node-postgres, ioredis and ssh2 say, without an errno, when the server went away.
const UNREACHABLE_MESSAGE =
  /timeout exceeded when trying to connect|Connection terminated (unexpectedly|due to connection timeout)|Client has encountered a connection error|the database system is (starting up|shutting down)|Connection is closed|Reached the max retries per request limit|Timed out while waiting for handshake|connect: getConnection/i;

type Tagged = { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };

/** The error and the errors it wraps (`cause`, AggregateError's `errors`), outermost first. */
function chain(err: unknown): Tagged[] {
  const out: Tagged[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 12) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null) continue;
    const t = e as Tagged;
    out.push(t);
    if (t.cause !== undefined) queue.push(t.cause);
    if (Array.isArray(t.errors)) queue.push(...t.errors);
  }
  return out;
}

function isUnreachable(e: Tagged): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (UNREACHABLE_ERRNO.has(code)) return true;
  // SQLSTATE class 08 (connection exception), 57P03 (cannot connect now).
  if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P03') return true;
  if (typeof e.name === 'string' && UNREACHABLE_KAFKA.has(e.name)) return true;
  return typeof e.message === 'string' && UNREACHABLE_MESSAGE.test(e.message);
}

/**
 * What a failure means to the caller: its exit status, a code (the error's own, else the class
 * of failure) and a message. Errors are recognised by their name and code, not `instanceof`:
 * socket errors come from another realm under jest, and wrappers keep the cause.
 */
export function classifyFailure(err: unknown): Failure {
  const errors = chain(err);
  // drizzle's wrapper says "Failed query: <SQL> params: <values>": the values may be personal
  // data, and the driver's error it wraps says what went wrong.
  const shown = errors.find((e) => !(typeof e.message === 'string' && e.message.startsWith('Failed query:')));
  const message = messageOf(shown ?? err);
  const top = errors[0] ?? {};
  const ownCode = typeof top.code === 'string' && top.code !== '' ? top.code : undefined;
  if (err instanceof CommanderError) {
    // --help and --version end as "errors" under exitOverride; anything else is the command line.
    return { exitCode: err.exitCode === 0 ? EXIT.OK : EXIT.USAGE, code: 'USAGE', message };
  }
  if (err instanceof UsageError) return { exitCode: EXIT.USAGE, code: 'USAGE', message };
  // A `boarding` child process that failed (the demo runs each step as one): its status said why.
  const child = (err as { childExitCode?: unknown }).childExitCode;
  if (typeof child === 'number' && child >= EXIT.FAILED && child <= EXIT.DELIVERY_FAILED) {
    return { exitCode: child, code: ownCode ?? 'FAILED', message };
  }
  const configCode = errors.map((e) => e.code).find((c) => typeof c === 'string' && CONFIG_CODES.has(c));
  if (typeof configCode === 'string') return { exitCode: EXIT.CONFIG, code: configCode, message };
  // Before "unreachable": an SFTP server that refused every try is a day not delivered, and the
  // ledger has its FAILED row; the exporter retries it the next night.
  if (errors.some((e) => e.name === 'DeliveryFailedError')) {
    return { exitCode: EXIT.DELIVERY_FAILED, code: ownCode ?? 'DELIVERY_FAILED', message };
  }
  const unreachable = errors.find(isUnreachable);
  if (unreachable) {
    const code = typeof unreachable.code === 'string' ? unreachable.code : 'UNREACHABLE';
    return {
      exitCode: EXIT.UNREACHABLE,
      code: ownCode ?? code,
      message: `a server could not be reached: ${messageOf(unreachable)} (npx boarding doctor checks each one)`,
    };
  }
  return { exitCode: EXIT.FAILED, code: ownCode ?? 'FAILED', message };
}

/** The error's message on one line (a configuration error lists its problems on several). */
function messageOf(err: unknown): string {
  const raw =
    typeof err === 'object' && err !== null && typeof (err as Tagged).message === 'string'
      ? String((err as Tagged).message)
      : String(err);
  return raw
    .replace(/^error: /, '')
    .replace(/:\s*\n\s*- /, ': ')
    .replace(/\n\s*- /g, '; ')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}
