import { randomBytes } from 'node:crypto';
import { createDb } from '@boarding/db/client';
import { dataKeyCanaryOpens, indexKeyCheck, KeyMismatchError } from '@boarding/encryption/key-check';
import { Keyring } from '@boarding/encryption/keyring';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import type { Pool } from 'pg';
import { type KeyCheckResult, verifyKeyring } from './key-check';
import { matchCard } from './verbs/match-card';

// Random keys per run: nothing here can open real data. Keyrings are rebuilt from the same bytes
// where a test means "the same key file loaded by another process".
const K1 = randomBytes(32);
const K2 = randomBytes(32);
const INDEX = randomBytes(32);
const keyring = (
  dataKeys: Record<string, Buffer>,
  indexKey: Buffer = INDEX,
  active = Object.keys(dataKeys)[0],
) => new Keyring({ activeKeyId: active ?? '', dataKeys, indexKey });
const keyMaterial = () => [K1, K2, INDEX].flatMap((k) => [k.toString('base64'), k.toString('hex')]);

type CheckRow = { kind: string; key_id: string; check_value: string; created_at: Date };

async function checkRows(pool: Pool): Promise<CheckRow[]> {
  const { rows } = await pool.query<CheckRow>(
    'select kind, key_id, check_value, created_at from key_checks order by kind desc, key_id',
  );
  return rows;
}

/** The KeyMismatchError a verification rejects with; success or any other error fails the test. */
async function mismatchOf(promise: Promise<unknown>): Promise<KeyMismatchError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof KeyMismatchError) return err;
    throw err;
  }
  throw new Error('expected a KeyMismatchError, but the keys were accepted');
}

/**
 * Run `starts` so that all of them read the empty table before any inserts: the table is locked
 * until every one waits on the lock, then released at once.
 */
async function raceFirstStarts<T>(
  pool: Pool,
  starts: (() => Promise<T>)[],
): Promise<PromiseSettledResult<T>[]> {
  const gate = await pool.connect();
  try {
    await gate.query('begin');
    await gate.query('lock table key_checks in access exclusive mode');
    const running = Promise.allSettled(starts.map((start) => start()));
    for (;;) {
      const { rows } = await gate.query<{ n: number }>(
        `select count(*)::int as n from pg_locks
          where relation = 'key_checks'::regclass and not granted`,
      );
      if ((rows[0]?.n ?? 0) >= starts.length) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await gate.query('commit');
    return await running;
  } finally {
    gate.release();
  }
}

describe('verifyKeyring', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('key_check');
  });
  afterAll(async () => {
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query(
      'truncate key_checks, registry_audit, card_status_outbox, card_status, matches, cards, persons',
    );
  });

  it('writes the index key check and one canary per data key on first use', async () => {
    const ring = keyring({ k1: K1, k2: K2 });
    expect(await verifyKeyring(db.pool, ring)).toEqual<KeyCheckResult>({
      indexKey: 'WRITTEN',
      dataKeys: { k1: 'WRITTEN', k2: 'WRITTEN' },
      keyIdsNotLoaded: [],
    });
    const rows = await checkRows(db.pool);
    expect(rows.map((r) => [r.kind, r.key_id])).toEqual([
      ['INDEX', ''],
      ['DATA', 'k1'],
      ['DATA', 'k2'],
    ]);
    expect(rows[0]?.check_value).toBe(indexKeyCheck(ring));
    expect(rows.slice(1).map((r) => dataKeyCanaryOpens(ring, r.key_id, r.check_value))).toEqual([true, true]);
    // The stored checks are no key, nor any encoding of one.
    const stored = JSON.stringify(rows);
    expect(keyMaterial().some((k) => stored.includes(k))).toBe(false);
  });

  it('verifies the same keys loaded again (another process) without writing', async () => {
    await verifyKeyring(db.pool, keyring({ k1: K1, k2: K2 }));
    const before = await checkRows(db.pool);
    expect(
      await verifyKeyring(
        db.pool,
        keyring({ k1: Buffer.from(K1), k2: Buffer.from(K2) }, Buffer.from(INDEX), 'k2'),
      ),
    ).toEqual<KeyCheckResult>({
      indexKey: 'VERIFIED',
      dataKeys: { k1: 'VERIFIED', k2: 'VERIFIED' },
      keyIdsNotLoaded: [],
    });
    expect(await checkRows(db.pool)).toEqual(before);
  });

  it('refuses another index key with PII_INDEX_KEY_MISMATCH and writes nothing, not even a new kid’s canary', async () => {
    await verifyKeyring(db.pool, keyring({ k1: K1 }));
    const before = await checkRows(db.pool);
    const err = await mismatchOf(verifyKeyring(db.pool, keyring({ k1: K1, k2: K2 }, randomBytes(32), 'k2')));
    expect(err).toMatchObject({ code: 'PII_INDEX_KEY_MISMATCH', retryable: false, keyIds: [] });
    expect(err.message).toContain('check PII_KEY_FILE / PII_INDEX_KEY');
    expect(keyMaterial().some((k) => err.message.includes(k))).toBe(false);
    expect(await checkRows(db.pool)).toEqual(before);
  });

  it('refuses other bytes under a known kid with PII_DATA_KEY_MISMATCH naming the kid', async () => {
    await verifyKeyring(db.pool, keyring({ k1: K1, k2: K2 }));
    const before = await checkRows(db.pool);
    const err = await mismatchOf(verifyKeyring(db.pool, keyring({ k1: K1, k2: randomBytes(32) })));
    expect(err).toMatchObject({ code: 'PII_DATA_KEY_MISMATCH', retryable: false, keyIds: ['k2'] });
    expect(err.message).toContain('data key k2 ');
    expect(err.message).toContain('check PII_KEY_FILE / PII_KEYS');
    expect(keyMaterial().some((k) => err.message.includes(k))).toBe(false);
    expect(await checkRows(db.pool)).toEqual(before);
  });

  it('writes the canary of a kid added by rotation, and verifies it from then on', async () => {
    await verifyKeyring(db.pool, keyring({ k1: K1 }));
    const rotated = keyring({ k1: K1, k2: K2 }, INDEX, 'k2');
    expect(await verifyKeyring(db.pool, rotated)).toEqual<KeyCheckResult>({
      indexKey: 'VERIFIED',
      dataKeys: { k1: 'VERIFIED', k2: 'WRITTEN' },
      keyIdsNotLoaded: [],
    });
    expect(await verifyKeyring(db.pool, rotated)).toMatchObject({
      dataKeys: { k1: 'VERIFIED', k2: 'VERIFIED' },
    });
    expect((await checkRows(db.pool)).map((r) => r.key_id)).toEqual(['', 'k1', 'k2']);
  });

  it('notes a checked kid the keyring no longer holds (a retired key) without failing', async () => {
    await verifyKeyring(db.pool, keyring({ k1: K1, k2: K2 }));
    expect(await verifyKeyring(db.pool, keyring({ k2: K2 }))).toEqual<KeyCheckResult>({
      indexKey: 'VERIFIED',
      dataKeys: { k2: 'VERIFIED' },
      keyIdsNotLoaded: ['k1'],
    });
  });

  it('lets concurrent first starts with the same keys all succeed, leaving one row per key', async () => {
    const pools = Array.from({ length: 6 }, () => createDb({ url: db.url, pool: { max: 1 } }).pool);
    try {
      const settled = await raceFirstStarts(
        db.pool,
        pools.map((pool) => () => verifyKeyring(pool, keyring({ k1: K1, k2: K2 }))),
      );
      const results = settled.map((s) => {
        if (s.status === 'rejected') throw s.reason;
        return s.value;
      });
      // Each row was written by exactly one of them; every other one verified it.
      expect(results.filter((r) => r.indexKey === 'WRITTEN')).toHaveLength(1);
      expect(results.filter((r) => r.dataKeys.k1 === 'WRITTEN')).toHaveLength(1);
      expect(results.filter((r) => r.dataKeys.k2 === 'WRITTEN')).toHaveLength(1);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
    expect((await checkRows(db.pool)).map((r) => [r.kind, r.key_id])).toEqual([
      ['INDEX', ''],
      ['DATA', 'k1'],
      ['DATA', 'k2'],
    ]);
  });

  it('lets only one of two concurrent first starts with different keys win; the loser writes nothing', async () => {
    const pools = [0, 1].map(() => createDb({ url: db.url, pool: { max: 1 } }).pool);
    // Each with a kid of its own, so whichever loses, a row of its own would show.
    const rings = [keyring({ k1: K1, k8: K2 }), keyring({ k1: K1, k9: randomBytes(32) }, randomBytes(32))];
    try {
      const settled = await raceFirstStarts(
        db.pool,
        pools.map((pool, i) => () => verifyKeyring(pool, rings[i] as Keyring)),
      );
      const won = settled.findIndex((s) => s.status === 'fulfilled');
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect(settled.find((s) => s.status === 'rejected')).toMatchObject({
        reason: { code: 'PII_INDEX_KEY_MISMATCH' },
      });
      const rows = await checkRows(db.pool);
      expect(rows.map((r) => r.key_id)).toEqual(won === 0 ? ['', 'k1', 'k8'] : ['', 'k1', 'k9']);
      expect(rows[0]?.check_value).toBe(indexKeyCheck(rings[won] as Keyring));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  describe('on a database written before it had key checks (the first start after the upgrade)', () => {
    const writer = () => keyring({ k1: K1 });
    beforeEach(async () => {
      await matchCard({
        ctx: { db: db.db, keyring: writer(), actor: { id: 'test', channel: 'WEB' } },
        input: {
          cardNo: '0400000000000A01',
          cardKind: 'PERSONAL',
          tcKimlikNo: '10000000146',
          hesCode: 'ABCD1234X9',
          at: '2020-11-01T00:00:00Z',
        },
      });
      await db.pool.query('truncate key_checks');
    });

    it('refuses another index key, checked against a stored person', async () => {
      const err = await mismatchOf(verifyKeyring(db.pool, keyring({ k1: K1 }, randomBytes(32))));
      expect(err.code).toBe('PII_INDEX_KEY_MISMATCH');
      expect(await checkRows(db.pool)).toEqual([]);
    });

    it('refuses other bytes under the kid the stored person was sealed with', async () => {
      const err = await mismatchOf(verifyKeyring(db.pool, keyring({ k1: randomBytes(32) })));
      expect(err).toMatchObject({ code: 'PII_DATA_KEY_MISMATCH', keyIds: ['k1'] });
      expect(await checkRows(db.pool)).toEqual([]);
    });

    it('writes the checks of the keys the data was written with', async () => {
      expect(await verifyKeyring(db.pool, writer())).toMatchObject({
        indexKey: 'WRITTEN',
        dataKeys: { k1: 'WRITTEN' },
      });
    });
  });
});
