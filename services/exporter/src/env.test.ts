import { ConfigError, loadEnv } from '@boarding/config/env';
import { ExporterEnv } from './env';

const required = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/boarding',
  REDIS_URL: 'redis://127.0.0.1:6379',
  SFTP_HOST: '127.0.0.1',
  SFTP_USER: 'ministry',
  SFTP_PRIVATE_KEY_PATH: '/keys/id_ed25519',
  SFTP_HOST_KEY_SHA256: `SHA256:${'A'.repeat(43)}`,
  KAFKA_BROKERS: '127.0.0.1:9092',
};

describe('ExporterEnv', () => {
  it('defaults to the nightly 03:30 Istanbul run waiting until 06:00, a week of late window', () => {
    const env = loadEnv(ExporterEnv, required);
    expect(env).toMatchObject({
      EXPORT_CRON: '30 3 * * *',
      EXPORT_TZ: 'Europe/Istanbul',
      EXPORT_DEADLINE: '06:00',
      EXPORT_RECHECK_MINUTES: 10,
      LATE_WINDOW_DAYS: 7,
      EXPORT_QUEUE: 'boarding-export',
      EXPORT_QUEUE_PREFIX: 'bull',
      EXPORT_JOB_ATTEMPTS: 4,
      EXPORT_JOB_BACKOFF_MS: 60000,
      EXPORTER_PORT: 9102,
      // The ops endpoints listen on loopback unless an operator opens them.
      EXPORTER_HOST: '127.0.0.1',
    });
    expect(env.EXPORTER_BOARD_TOKEN).toBeUndefined();
  });

  it.each([
    ['EXPORT_TZ', 'Europe/Izmir'],
    ['EXPORT_TZ', '+03:00'],
    ['EXPORT_DEADLINE', '6:00'],
    ['EXPORT_DEADLINE', '24:00'],
    ['EXPORT_CRON', '30 3 * *'],
    ['EXPORT_CRON', '99 x * * *'],
    ['RETENTION_CRON', '0 25 * * *'],
    ['EXPORT_QUEUE', 'boarding:export'],
    ['EXPORTER_BOARD_TOKEN', 'short'],
    ['EXPORT_RECHECK_MINUTES', '0'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadEnv(ExporterEnv, { ...required, [name]: value })).toThrow(ConfigError);
    expect(() => loadEnv(ExporterEnv, { ...required, [name]: value })).toThrow(name);
  });

  it('never echoes the board token in its error', () => {
    expect(() => loadEnv(ExporterEnv, { ...required, EXPORTER_BOARD_TOKEN: 'secret-but-short' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret-but-short') }),
    );
  });
});
