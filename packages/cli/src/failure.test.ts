import { ConfigError } from '@boarding/config/env';
import { DeliveryFailedError } from '@boarding/delivery/retry';
import { CommanderError, InvalidArgumentError } from 'commander';
import { UsageError } from './arguments';
import { classifyFailure, EXIT } from './failure';

/** An error as a library throws it: a name, a code, maybe a cause. */
function thrown(message: string, tags: { name?: string; code?: string; cause?: unknown } = {}): Error {
  const err = new Error(message, tags.cause === undefined ? undefined : { cause: tags.cause });
  if (tags.name) err.name = tags.name;
  if (tags.code) Object.assign(err, { code: tags.code });
  return err;
}

describe('what a failure means to the caller', () => {
  it('exits 2 on the command line, 0 for --help and --version', () => {
    expect(classifyFailure(new UsageError('--day must be a date'))).toMatchObject({
      exitCode: 2,
      code: 'USAGE',
    });
    expect(classifyFailure(new InvalidArgumentError('must be a whole number ≥ 1'))).toMatchObject({
      exitCode: EXIT.USAGE,
    });
    expect(
      classifyFailure(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--dya'")),
    ).toEqual({ exitCode: 2, code: 'USAGE', message: "unknown option '--dya'" });
    expect(classifyFailure(new CommanderError(0, 'commander.version', 'boarding 0.0.0')).exitCode).toBe(0);
  });

  it('exits 3 on a setting or key that is wrong, its problems on one line', () => {
    expect(
      classifyFailure(new ConfigError(['DATABASE_URL is not set (required)', 'SFTP_PORT: too big'])),
    ).toEqual({
      exitCode: 3,
      code: 'CONFIG_INVALID',
      message: 'invalid configuration: DATABASE_URL is not set (required); SFTP_PORT: too big',
    });
    expect(
      classifyFailure(thrown('the PII index key loaded is not…', { code: 'PII_INDEX_KEY_MISMATCH' })),
    ).toMatchObject({ exitCode: 3, code: 'PII_INDEX_KEY_MISMATCH' });
  });

  it('exits 4 when PostgreSQL, Redis, Kafka or the SFTP server cannot be reached, wrapped or not', () => {
    const refused = thrown('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' });
    const cases = [
      refused,
      // drizzle's wrapper around pg's error.
      thrown('Failed query: select 1', { cause: refused }),
      thrown('the database system is starting up', { code: '57P03' }),
      thrown('connection failure', { code: '08006' }),
      thrown('timeout exceeded when trying to connect'),
      // Node's happy-eyeballs connect: AggregateError of each address' refusal.
      Object.assign(new AggregateError([refused], ''), { code: 'ECONNREFUSED' }),
      thrown('getaddrinfo ENOTFOUND kafka.example', { code: 'ENOTFOUND' }),
      thrown('Connection error: connect ECONNREFUSED', {
        name: 'KafkaJSNumberOfRetriesExceeded',
        cause: thrown('Connection error: connect ECONNREFUSED', { name: 'KafkaJSConnectionError' }),
      }),
      thrown('Request Metadata(key: 3, version: 6) timed out', { name: 'KafkaJSRequestTimeoutError' }),
      thrown('Reached the max retries per request limit (which is 20)', {
        name: 'MaxRetriesPerRequestError',
      }),
    ];
    expect(cases.map((e) => classifyFailure(e).exitCode)).toEqual(cases.map(() => EXIT.UNREACHABLE));
    expect(classifyFailure(refused).code).toBe('ECONNREFUSED');
    expect(classifyFailure(thrown('timeout exceeded when trying to connect')).code).toBe('UNREACHABLE');
  });

  it('exits 5 when a day was built and its delivery failed for good, whatever stopped it', () => {
    const refused = new DeliveryFailedError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:2222', 5, true);
    expect(classifyFailure(refused)).toMatchObject({ exitCode: 5, code: 'ECONNREFUSED' });
    const impostor = new DeliveryFailedError('SFTP_HOST_KEY_MISMATCH', 'host key mismatch', 1, false);
    // As replay wraps it: its own message, the delivery's code, the delivery as its cause.
    const wrapped = thrown('replay of 2020-11-20 done, then the export failed: …', {
      code: 'SFTP_HOST_KEY_MISMATCH',
      cause: impostor,
    });
    expect(classifyFailure(wrapped)).toMatchObject({ exitCode: 5, code: 'SFTP_HOST_KEY_MISMATCH' });
  });

  it("passes on the status of a `boarding` step that failed (the demo's)", () => {
    const step = Object.assign(new Error('`boarding export run --day 2020-11-20` failed (exit 5)'), {
      childExitCode: 5,
    });
    expect(classifyFailure(step)).toMatchObject({ exitCode: 5, code: 'FAILED' });
  });

  it('exits 1 on anything else, with the error own code when it has one', () => {
    expect(classifyFailure(thrown('the day lock was held too long', { code: 'DAY_LOCK_TIMEOUT' }))).toEqual({
      exitCode: 1,
      code: 'DAY_LOCK_TIMEOUT',
      message: 'the day lock was held too long',
    });
    expect(classifyFailure(new TypeError('x is undefined'))).toMatchObject({ exitCode: 1, code: 'FAILED' });
    expect(classifyFailure('a string')).toMatchObject({ exitCode: 1, message: 'a string' });
  });
});
