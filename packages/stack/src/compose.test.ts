import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';
import { parse } from 'yaml';
import { stackSettings } from './settings';

// No Docker engine runs here, so `docker compose config` cannot check the file; this keeps it
// parseable and in step with `boarding stack up` (same servers, ports, Kafka version).
describe('docker-compose.yml', () => {
  const root = findRepoRoot();
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { image?: string; ports?: string[] }>;
  };
  const settings = stackSettings({});

  it('runs the same four servers as the local stack', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'kafka', 'sftp']),
    );
  });

  it('publishes each on the local stack default port, on loopback only', () => {
    const published = (name: string) => compose.services[name]?.ports?.[0] ?? '';
    expect(published('postgres')).toBe(`127.0.0.1:\${BOARDING_PG_PORT:-${settings.ports.pg}}:5432`);
    expect(published('redis')).toBe(`127.0.0.1:\${BOARDING_REDIS_PORT:-${settings.ports.redis}}:6379`);
    expect(published('kafka')).toBe(`127.0.0.1:\${BOARDING_KAFKA_PORT:-${settings.ports.kafka}}:9092`);
    expect(published('sftp')).toBe(`127.0.0.1:\${BOARDING_SFTP_PORT:-${settings.ports.sftp}}:22`);
  });

  it('pins the same Kafka version as infra/kafka/VERSION', () => {
    const version = readFileSync(join(root, 'infra', 'kafka', 'VERSION'), 'utf8').trim();
    expect(compose.services.kafka?.image).toBe(`apache/kafka:${version}`);
    expect(readFileSync(join(root, 'infra', 'kafka', 'pom.xml'), 'utf8')).toContain(
      `<version>${version}</version>`,
    );
  });
});
