import { ConfigError, loadEnv } from '@boarding/config/env';
import { StatusRelayEnv } from './env';

const required = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/boarding',
  REDIS_URL: 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: '127.0.0.1:9092',
  HES_SERVICE_URL: 'http://127.0.0.1:7081',
};

describe('StatusRelayEnv', () => {
  it('defaults to an hourly refresh of 1,000 matches a batch, card.status.v1, ops on loopback 9104', () => {
    expect(loadEnv(StatusRelayEnv, required)).toMatchObject({
      STATUS_TOPIC: 'card.status.v1',
      HES_REFRESH_CRON: '0 * * * *',
      HES_REFRESH_TZ: 'Europe/Istanbul',
      HES_REFRESH_BATCH_SIZE: 1000,
      HES_REFRESH_TIMEOUT_MS: 2_700_000,
      STATUS_RELAY_QUEUE: 'boarding-status',
      STATUS_RELAY_QUEUE_PREFIX: 'bull',
      STATUS_RELAY_HOST: '127.0.0.1',
      STATUS_RELAY_PORT: 9104,
      HES_TIMEOUT_MS: 3000,
      KAFKA_BROKERS: ['127.0.0.1:9092'],
    });
  });

  it.each([
    ['HES_REFRESH_CRON', '0 * * *'],
    ['HES_REFRESH_TZ', 'Europe/Izmir'],
    ['HES_REFRESH_BATCH_SIZE', '1001'],
    ['HES_REFRESH_BATCH_SIZE', '0'],
    ['STATUS_RELAY_QUEUE', 'boarding:status'],
    ['STATUS_RELAY_PORT', '70000'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadEnv(StatusRelayEnv, { ...required, [name]: value })).toThrow(ConfigError);
    expect(() => loadEnv(StatusRelayEnv, { ...required, [name]: value })).toThrow(name);
  });

  it('requires the HES service and the stores it talks to', () => {
    for (const name of Object.keys(required)) {
      const { [name as keyof typeof required]: _left, ...rest } = required;
      expect(() => loadEnv(StatusRelayEnv, rest)).toThrow(`${name} is not set`);
    }
  });
});
