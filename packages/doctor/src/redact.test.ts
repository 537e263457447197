import { isSecretName, redact, secretValues, shownValue, withoutCredentials } from './redact';

describe('what doctor may print of a setting', () => {
  it('hides the credentials and query of a URL, keeping where it points', () => {
    expect(withoutCredentials('postgres://app:s3cret-pw@10.0.0.5:5432/boarding?sslpassword=x')).toBe(
      'postgres://***@10.0.0.5:5432/boarding?…',
    );
    expect(withoutCredentials('redis://:pw-only-here@127.0.0.1:16379')).toBe('redis://***@127.0.0.1:16379');
    expect(withoutCredentials('http://127.0.0.1:9105/')).toBe('http://127.0.0.1:9105');
    expect(withoutCredentials('127.0.0.1:19092,127.0.0.1:19094')).toBe('127.0.0.1:19092,127.0.0.1:19094');
  });

  it('says a secret setting is set without showing it, and shows a fingerprint, a key id or a path', () => {
    for (const name of [
      'PII_KEYS',
      'PII_INDEX_KEY',
      'REGISTRY_API_WEB_PAGE_KEY',
      'EXPORTER_BOARD_TOKEN',
      'SMTP_PASSWORD',
    ]) {
      expect([name, isSecretName(name)]).toEqual([name, true]);
      expect(shownValue(name, 'abcdefgh')).toBe('set (secret, not shown)');
    }
    for (const name of [
      'SFTP_HOST_KEY_SHA256',
      'PII_ACTIVE_KEY_ID',
      'SFTP_PRIVATE_KEY_PATH',
      'PII_KEY_FILE',
    ]) {
      expect([name, isSecretName(name)]).toEqual([name, false]);
    }
  });

  it('masks every secret of the environment wherever a message repeats it', () => {
    const secrets = secretValues({
      DATABASE_URL: 'postgres://app:s3cret-pw@127.0.0.1:1/db',
      EXPORTER_BOARD_TOKEN: 'board-token-0123456789abcdef',
      KAFKA_TAPS_TOPIC: 'validator.taps.v1',
    });
    expect(secrets).toEqual(['board-token-0123456789abcdef', 's3cret-pw']);
    expect(redact('auth with s3cret-pw and board-token-0123456789abcdef failed', secrets)).toBe(
      'auth with *** and *** failed',
    );
    // User-info the environment did not hold (a client echoing its own configuration).
    expect(redact('connect to redis://user:other-pw@host:6379 failed', [])).toBe(
      'connect to redis://***@host:6379 failed',
    );
  });
});
