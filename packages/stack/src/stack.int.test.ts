import { DatabaseEnv, loadEnv, RedisEnv } from '@boarding/config/env';

// The local stack's settings (.local/stack.env); @boarding/testing depends on this package.
const testEnv = () => loadEnv(DatabaseEnv.extend(RedisEnv.shape));

import Redis from 'ioredis';
import { Client } from 'pg';
import { stackStatus, stackUp } from './stack';

describe('the local stack', () => {
  it('reports four healthy servers on their own non-default ports', async () => {
    const status = await stackStatus();
    expect(status.map((s) => [s.server, s.healthy])).toEqual([
      ['postgres', true],
      ['redis', true],
      ['kafka', true],
      ['sftp', true],
    ]);
    for (const s of status) {
      expect(s.pid).toEqual(expect.any(Number));
      expect([5432, 6379, 9092, 22]).not.toContain(s.port);
    }
  });

  it('changes nothing on a second up', async () => {
    const before = await stackStatus();
    const result = await stackUp();
    expect(result.changed).toBe(false);
    expect(result.servers.map((s) => s.action)).toEqual(Array(4).fill('already-running'));
    expect(result.servers.map((s) => s.pid)).toEqual(before.map((s) => s.pid));
  });

  it('answers a PostgreSQL query as the application role', async () => {
    const client = new Client({ connectionString: testEnv().DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ who: string; version: string }>(
        'select current_user as who, current_setting($1) as version',
        ['server_version_num'],
      );
      expect(rows[0]?.who).toBe('boarding');
      expect(Number(rows[0]?.version)).toBeGreaterThanOrEqual(150000);
    } finally {
      await client.end();
    }
  });

  it('round-trips a value through Redis with AOF on', async () => {
    const redis = new Redis(testEnv().REDIS_URL);
    try {
      const key = `smoke:${process.pid}:${Date.now()}`;
      await redis.set(key, 'ok', 'EX', 60);
      expect(await redis.get(key)).toBe('ok');
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses Redis clients without the password', async () => {
    const url = new URL(testEnv().REDIS_URL);
    const redis = new Redis({
      host: url.hostname,
      port: Number(url.port),
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await expect(redis.get('x')).rejects.toThrow(/NOAUTH/);
    } finally {
      redis.disconnect();
    }
  });
});
