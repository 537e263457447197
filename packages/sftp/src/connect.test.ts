import { loadEnv, SftpEnv } from '@boarding/config/env';
import { sftpSettingsFromEnv } from './connect';

describe('sftpSettingsFromEnv', () => {
  const base = {
    SFTP_HOST: 'sftp.example',
    SFTP_USER: 'u',
    SFTP_PRIVATE_KEY_PATH: '/k',
    SFTP_HOST_KEY_SHA256: `SHA256:${'A'.repeat(43)}`,
  };

  it('carries the time limits of the environment into the connection settings', () => {
    const env = loadEnv(SftpEnv, {
      ...base,
      SFTP_READY_TIMEOUT_MS: '15000',
      SFTP_KEEPALIVE_INTERVAL_MS: '2000',
      SFTP_KEEPALIVE_COUNT_MAX: '4',
      SFTP_TIMEOUT_MS: '60000',
    });
    expect(sftpSettingsFromEnv(env)).toMatchObject({
      readyTimeoutMs: 15000,
      keepaliveIntervalMs: 2000,
      keepaliveCountMax: 4,
      operationTimeoutMs: 60000,
    });
  });

  it('falls back to the defaults: ready 10 s, keepalive 5 s × 3, 30 s per operation', () => {
    expect(sftpSettingsFromEnv(loadEnv(SftpEnv, base))).toMatchObject({
      readyTimeoutMs: 10_000,
      keepaliveIntervalMs: 5_000,
      keepaliveCountMax: 3,
      operationTimeoutMs: 30_000,
    });
  });
});
