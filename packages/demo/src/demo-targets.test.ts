import { checkDemoTargets, DemoTargetError } from './demo-targets';

// `.local/stack.env` as `boarding stack up` writes it (passwords included, as there).
const STACK = {
  DATABASE_URL: 'postgres://boarding:stackpw@127.0.0.1:15432/boarding',
  REDIS_URL: 'redis://:stackpw@127.0.0.1:16379',
  KAFKA_BROKERS: '127.0.0.1:19092',
  KAFKA_TAPS_TOPIC: 'validator.taps.v1',
  SFTP_HOST: '127.0.0.1',
  SFTP_PORT: '12222',
  SFTP_USER: 'boarding-sftp',
  SFTP_REMOTE_DIR: '/incoming',
};

/** The environment the steps see: the stack's settings under the process environment. */
const seen = (processEnv: Record<string, string>) => ({ ...STACK, ...processEnv });
const messages = (processEnv: Record<string, string>, allowed: string[] = []) =>
  checkDemoTargets(seen(processEnv), STACK, allowed as never[]).map((p) => p.message);

describe('checkDemoTargets', () => {
  it('accepts an environment that is the local stack', () => {
    expect(checkDemoTargets(STACK, STACK)).toEqual([]);
  });

  it('accepts the stack reached with other credentials, database or topic (the sandbox sets those)', () => {
    expect(
      messages({
        DATABASE_URL: 'postgresql://other:pw@127.0.0.1:15432/boarding_demo',
        REDIS_URL: 'redis://:x@127.0.0.1:16379/2',
        KAFKA_TAPS_TOPIC: 'demo.validator.taps.1',
        SFTP_REMOTE_DIR: '/incoming/demo',
      }),
    ).toEqual([]);
  });

  it('accepts targets left unset: the steps take them from the stack once it is up', () => {
    expect(checkDemoTargets({}, {})).toEqual([]);
    expect(checkDemoTargets({}, STACK)).toEqual([]);
  });

  it('names DATABASE_URL when it points at another server', () => {
    expect(messages({ DATABASE_URL: 'postgres://u:secret@db.prod.example:5432/boarding' })).toEqual([
      'DATABASE_URL points at db.prod.example:5432, not the local stack (127.0.0.1:15432)',
    ]);
  });

  it('names DATABASE_URL when a ?host= parameter sends it elsewhere', () => {
    expect(messages({ DATABASE_URL: 'postgres://u@127.0.0.1:15432/x?host=db.prod.example' })).toEqual([
      'DATABASE_URL points at db.prod.example:15432, not the local stack (127.0.0.1:15432)',
    ]);
  });

  it('names REDIS_URL when it points at another server (default port)', () => {
    expect(messages({ REDIS_URL: 'rediss://default:secret@cache.prod.example' })).toEqual([
      'REDIS_URL points at cache.prod.example:6379, not the local stack (127.0.0.1:16379)',
    ]);
  });

  it('names KAFKA_BROKERS when any broker is not the stack', () => {
    expect(messages({ KAFKA_BROKERS: '127.0.0.1:19092,kafka-2.prod.example:9092' })).toEqual([
      'KAFKA_BROKERS points at 127.0.0.1:19092,kafka-2.prod.example:9092, not the local stack (127.0.0.1:19092)',
    ]);
  });

  it('names SFTP_HOST/SFTP_PORT when the SFTP server is another (default port 22)', () => {
    const { SFTP_PORT: _, ...stackWithoutPort } = STACK;
    expect(
      checkDemoTargets({ ...stackWithoutPort, SFTP_HOST: 'sftp.saglik.gov.tr' }, STACK).map((p) => p.message),
    ).toEqual(['SFTP_HOST/SFTP_PORT point at sftp.saglik.gov.tr:22, not the local stack (127.0.0.1:12222)']);
    expect(messages({ SFTP_HOST: '127.0.0.1', SFTP_PORT: '2222' })).toEqual([
      'SFTP_HOST/SFTP_PORT point at 127.0.0.1:2222, not the local stack (127.0.0.1:12222)',
    ]);
  });

  it('names SFTP_REMOTE_DIR outside the stack directory, however it is spelled', () => {
    expect(messages({ SFTP_REMOTE_DIR: '/incoming/../etc' })).toEqual([
      "SFTP_REMOTE_DIR is /etc, outside the local stack's /incoming",
    ]);
    expect(messages({ SFTP_REMOTE_DIR: '/incoming-prod' })).toEqual([
      "SFTP_REMOTE_DIR is /incoming-prod, outside the local stack's /incoming",
    ]);
  });

  it('refuses loopback on another port: another server, perhaps a tunnel to production', () => {
    expect(
      messages({
        DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/boarding',
        REDIS_URL: 'redis://localhost:16379',
        KAFKA_BROKERS: '127.0.0.1:9092',
        SFTP_PORT: '22',
      }),
    ).toEqual([
      'DATABASE_URL points at 127.0.0.1:5432, not the local stack (127.0.0.1:15432)',
      'REDIS_URL points at localhost:16379, not the local stack (127.0.0.1:16379)',
      'KAFKA_BROKERS points at 127.0.0.1:9092, not the local stack (127.0.0.1:19092)',
      'SFTP_HOST/SFTP_PORT point at 127.0.0.1:22, not the local stack (127.0.0.1:12222)',
    ]);
  });

  it('refuses a target set while the stack has none yet', () => {
    expect(checkDemoTargets({ DATABASE_URL: 'postgres://u:secret@db.prod.example/x' }, {})).toEqual([
      {
        target: 'DATABASE_URL',
        variables: ['DATABASE_URL'],
        message:
          'DATABASE_URL points at db.prod.example:5432, but the local stack has none (no DATABASE_URL in .local/stack.env: run `boarding stack up` first)',
      },
    ]);
  });

  it('never puts credentials or a whole URL in a message, even of a malformed setting', () => {
    const hostile = {
      DATABASE_URL: 'postgres://admin:secret@db.prod.example:5432/boarding?sslmode=require',
      REDIS_URL: 'redis://:secret@cache.prod.example:6380',
      KAFKA_BROKERS: 'user:secret@kafka.prod.example:9092',
      SFTP_HOST: 'ministry:secret@sftp.saglik.gov.tr',
    };
    const error = new DemoTargetError(checkDemoTargets(seen(hostile), STACK));
    expect(error.problems).toHaveLength(4);
    expect(error.message).not.toMatch(/secret|stackpw|admin|ministry|sslmode|postgres:|redis:/);

    const malformed = checkDemoTargets(seen({ DATABASE_URL: 'postgres://admin:secret@[bad' }), STACK);
    expect(malformed.map((p) => p.message)).toEqual(['DATABASE_URL is not a URL the demo can check']);
  });

  it('lets an allowed target point at a test host, and only that one', () => {
    const env = {
      DATABASE_URL: 'postgres://u:p@db.test.example:5432/x',
      SFTP_HOST: 'sftp.test.example',
      SFTP_PORT: '22',
      SFTP_REMOTE_DIR: '/upload',
    };
    expect(messages(env, ['DATABASE_URL', 'SFTP_HOST'])).toEqual([]);
    expect(messages(env, ['DATABASE_URL'])).toEqual([
      'SFTP_HOST/SFTP_PORT point at sftp.test.example:22, not the local stack (127.0.0.1:12222)',
      "SFTP_REMOTE_DIR is /upload, outside the local stack's /incoming",
    ]);
  });
});

describe('DemoTargetError', () => {
  it('says what to do in one line for one variable', () => {
    const error = new DemoTargetError(
      checkDemoTargets(seen({ DATABASE_URL: 'postgres://u:secret@db.prod.example:5432/x' }), STACK),
    );
    expect(error.message).toBe(
      'demo refuses to run: DATABASE_URL points at db.prod.example:5432, not the local stack (127.0.0.1:15432). Unset it, or pass --allow-target DATABASE_URL for a test host.',
    );
    expect(error).toMatchObject({ code: 'DEMO_TARGET_NOT_LOCAL', retryable: false });
  });

  it('lists every variable and every flag when several point elsewhere', () => {
    const error = new DemoTargetError(
      checkDemoTargets(
        seen({ KAFKA_BROKERS: 'kafka.prod.example:9092', SFTP_HOST: 'sftp.saglik.gov.tr', SFTP_PORT: '22' }),
        STACK,
      ),
    );
    expect(error.message).toBe(
      [
        'demo refuses to run:',
        '  - KAFKA_BROKERS points at kafka.prod.example:9092, not the local stack (127.0.0.1:19092)',
        '  - SFTP_HOST/SFTP_PORT point at sftp.saglik.gov.tr:22, not the local stack (127.0.0.1:12222)',
        'Unset them, or pass --allow-target KAFKA_BROKERS --allow-target SFTP_HOST for a test host.',
      ].join('\n'),
    );
  });
});
