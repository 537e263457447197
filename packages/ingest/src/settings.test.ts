import { loadEnv } from '@boarding/config/env';
import { IngestEnv } from './settings';

describe('IngestEnv', () => {
  const required = { DATABASE_URL: 'postgres://u@127.0.0.1:5432/boarding', KAFKA_BROKERS: '127.0.0.1:9092' };

  it('listens on loopback by default, stalls after 120 s, judges taps up to 7 days old', () => {
    expect(loadEnv(IngestEnv, required)).toMatchObject({
      INGEST_HOST: '127.0.0.1',
      INGEST_PORT: 9101,
      INGEST_STALL_SECONDS: 120,
      MAX_TAP_AGE_DAYS: 7,
      KAFKA_TAPS_TOPIC: 'validator.taps.v1',
    });
  });

  it('opens the ops endpoints to other hosts only when told', () => {
    expect(loadEnv(IngestEnv, { ...required, INGEST_HOST: '0.0.0.0' }).INGEST_HOST).toBe('0.0.0.0');
  });
});
