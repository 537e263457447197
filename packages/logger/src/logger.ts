import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Field names whose values never reach a log line: secrets and personal data. Code masks TC/HES
 * before logging (contracts/mask); this list is the second line of defence for a field that
 * slipped through under a known name.
 */
export const REDACTED_KEYS = [
  'password',
  'privateKey',
  'passphrase',
  'secret',
  'token',
  'authorization',
  'DATABASE_URL',
  'REDIS_URL',
  'tc',
  'tcKimlikNo',
  'tc_kimlik_no',
  'hes',
  'hesCode',
  'hes_code',
  'hes_kodu',
];

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`]);

/**
 * JSON logs on stderr, so stdout stays free for a command's output (`--json`, tables).
 * Level from LOG_LEVEL (default info).
 */
export function createLogger(
  name: string,
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      name,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
