import { CheckTimeoutError } from './check';
import { reachFix } from './reach-fix';

describe('reachFix', () => {
  const fix = (err: unknown) => reachFix(err, 'PostgreSQL', 'DATABASE_URL', 'postgres://127.0.0.1:1/db');

  it('names the port to correct when nothing listens', () => {
    expect(fix(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      'nothing listens at postgres://127.0.0.1:1/db: start PostgreSQL (locally: `boarding stack up`), or correct the port in DATABASE_URL',
    );
    // kafkajs: the socket's code only in its message.
    expect(
      reachFix(
        new Error('Connection error: connect ECONNREFUSED 127.0.0.1:1'),
        'Kafka',
        'KAFKA_BROKERS',
        'x',
      ),
    ).toMatch(/^nothing listens at x: .* correct the port in KAFKA_BROKERS$/);
  });

  it('names the credentials when they are refused, and the route when nothing answers', () => {
    expect(fix(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(
      'PostgreSQL refused the credentials: correct the user and password in DATABASE_URL',
    );
    expect(reachFix(new Error('WRONGPASS invalid username-password pair'), 'Redis', 'REDIS_URL', 'x')).toBe(
      'Redis refused the credentials: correct the user and password in REDIS_URL',
    );
    expect(fix(new CheckTimeoutError(1000))).toMatch(
      /does not answer: check it and the route to it, or correct DATABASE_URL$/,
    );
  });
});
