import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { createLogger } from '@boarding/logger/logger';
import { createRegistryApi } from './registry-api';
import { bearer, createApiRig, TEST_BODY_LIMIT } from './registry-api.test-helpers';

const TC = '17291716060';

describe('per-TC rate limit across API processes', () => {
  it('two API instances on one database count one TC into the same window: the limit does not multiply with replicas', async () => {
    let clock = new Date('2026-12-01T10:00:00Z');
    const now = () => clock;
    const rateLimits = { perKeyPerMinute: 1000, perTcPerHour: 3 };
    const rig = await createApiRig('regapi_rate_shared', { hes: new InMemoryHesVerifier(), now, rateLimits });
    // A second replica: its own process state (per-key limiter, fastify), the same database and keys.
    const replica = createRegistryApi({
      db: rig.database.db,
      keyring: rig.keyring,
      logger: createLogger('replica', { level: 'silent' }),
      bodyLimitBytes: TEST_BODY_LIMIT,
      hes: new InMemoryHesVerifier(),
      rateLimits,
      now,
    });
    try {
      const { key } = await rig.keyFor('WEB');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const app = i % 2 === 0 ? rig.app : replica;
        const res = await app.inject({
          method: 'POST',
          url: '/v1/matches/current',
          headers: bearer(key),
          payload: { cardNo: `0D000000000${i}`, tcKimlikNo: TC },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
      // The table holds the keyed index, never the number.
      const rows = await rig.database.pool.query<{ tc_index: Buffer; count: number }>(
        'select tc_index, count from tc_attempts',
      );
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0]?.count).toBe(5);
      expect(rows.rows[0]?.tc_index.toString('latin1')).not.toContain(TC);
      // The next hour's window starts afresh; the old one is pruned after two windows.
      clock = new Date('2026-12-01T11:00:00Z');
      const next = await replica.inject({
        method: 'POST',
        url: '/v1/matches/current',
        headers: bearer(key),
        payload: { cardNo: '0D00000000FF', tcKimlikNo: TC },
      });
      expect(next.statusCode).toBe(404);
      clock = new Date('2026-12-01T12:30:00Z');
      await rig.app.inject({
        method: 'POST',
        url: '/v1/matches/current',
        headers: bearer(key),
        payload: { cardNo: '0D00000000FE', tcKimlikNo: TC },
      });
      const { rows: windows } = await rig.database.pool.query<{ window_start: Date }>(
        'select window_start from tc_attempts order by window_start',
      );
      expect(windows.map((w) => w.window_start.toISOString())).toEqual([
        '2026-12-01T11:00:00.000Z',
        '2026-12-01T12:00:00.000Z',
      ]);
    } finally {
      await replica.close();
      await rig.close();
    }
  });
});
