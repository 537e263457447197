import { z } from 'zod';
import { ConfigError, DatabaseEnv, KafkaEnv, loadEnv, SftpEnv } from './env';
import { parseEnvFile } from './stack-env';

describe('loadEnv', () => {
  it('names a missing variable without printing any value', () => {
    const secret = 'postgres://app:s3cret-pw@127.0.0.1:1/db';
    expect(() => loadEnv(DatabaseEnv.extend(KafkaEnv.shape), { DATABASE_URL: secret })).toThrow(
      /KAFKA_BROKERS is not set/,
    );
    try {
      loadEnv(z.object({ DATABASE_URL: z.string(), X: z.string() }), { DATABASE_URL: secret });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect(String((err as Error).message)).not.toContain('s3cret-pw');
    }
  });

  it('rejects a malformed setting and says which', () => {
    expect(() => loadEnv(DatabaseEnv, { DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL: must be a URL/);
    expect(() => loadEnv(KafkaEnv, { KAFKA_BROKERS: 'localhost' })).toThrow(
      /KAFKA_BROKERS: must be host:port/,
    );
  });

  it('parses a valid environment with defaults', () => {
    const env = loadEnv(KafkaEnv, { KAFKA_BROKERS: '127.0.0.1:19092,127.0.0.1:19094' });
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:19092', '127.0.0.1:19094']);
    expect(env.KAFKA_TAPS_TOPIC).toBe('validator.taps.v1');
  });

  it('requires a well-formed pinned host key', () => {
    const base = { SFTP_HOST: '127.0.0.1', SFTP_USER: 'u', SFTP_PRIVATE_KEY_PATH: '/k' };
    expect(() => loadEnv(SftpEnv, { ...base, SFTP_HOST_KEY_SHA256: 'abc' })).toThrow(/SFTP_HOST_KEY_SHA256/);
    const ok = loadEnv(SftpEnv, {
      ...base,
      SFTP_HOST_KEY_SHA256: `SHA256:${'A'.repeat(43)}`,
      SFTP_PORT: '2222',
    });
    expect(ok.SFTP_PORT).toBe(2222);
  });

  it('reads the SFTP time limits as whole milliseconds, leaving them unset (the defaults) when absent', () => {
    const base = {
      SFTP_HOST: '127.0.0.1',
      SFTP_USER: 'u',
      SFTP_PRIVATE_KEY_PATH: '/k',
      SFTP_HOST_KEY_SHA256: `SHA256:${'A'.repeat(43)}`,
    };
    const unset = loadEnv(SftpEnv, base);
    expect([
      unset.SFTP_READY_TIMEOUT_MS,
      unset.SFTP_KEEPALIVE_INTERVAL_MS,
      unset.SFTP_KEEPALIVE_COUNT_MAX,
      unset.SFTP_TIMEOUT_MS,
    ]).toEqual([undefined, undefined, undefined, undefined]);
    const set = loadEnv(SftpEnv, {
      ...base,
      SFTP_READY_TIMEOUT_MS: '15000',
      SFTP_KEEPALIVE_INTERVAL_MS: '2000',
      SFTP_KEEPALIVE_COUNT_MAX: '4',
      SFTP_TIMEOUT_MS: '60000',
    });
    expect(set).toMatchObject({
      SFTP_READY_TIMEOUT_MS: 15000,
      SFTP_KEEPALIVE_INTERVAL_MS: 2000,
      SFTP_KEEPALIVE_COUNT_MAX: 4,
      SFTP_TIMEOUT_MS: 60000,
    });
    expect(() => loadEnv(SftpEnv, { ...base, SFTP_TIMEOUT_MS: '0' })).toThrow(/SFTP_TIMEOUT_MS/);
    expect(() => loadEnv(SftpEnv, { ...base, SFTP_KEEPALIVE_INTERVAL_MS: '5s' })).toThrow(
      /SFTP_KEEPALIVE_INTERVAL_MS/,
    );
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=value lines, skipping comments and blanks, keeping = inside values', () => {
    expect(parseEnvFile('# c\n\nA=1\r\nB=x=y\n  C = z \n')).toEqual({ A: '1', B: 'x=y', C: 'z' });
  });
});
