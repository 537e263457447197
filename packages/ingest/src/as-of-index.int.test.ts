import { storeTapBatch, type TapRow } from '@boarding/db/bulk/tap-store';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import type { PoolClient } from 'pg';

/**
 * The as-of lookups must probe the btree `matches_card_asof_idx`, not the GiST exclusion index
 * `matches_one_per_card`: the planner's estimates of the two are a hair apart, and a GiST probe
 * costs several times more (it detoasts a range per entry). Migration 0011 made the btree carry
 * what the probes read, so its index-only scan wins. Read off PostgreSQL's own index scan
 * counters around the real statements (the ingest's batch, the card status recompute), on a
 * registry big enough for indexes to be worth using and vacuumed, as one in service is. (With
 * the index as it was before 0011, both cases fail here: 500 and 2,000 GiST scans.)
 */
describe('as-of lookups use the covering btree', () => {
  let db: TestDatabase;
  const CARDS = 100_000;
  const DAY = '2020-11-20';

  beforeAll(async () => {
    db = await createTestDatabase('as_of_index');
    await db.pool.query(`
      insert into cards (card_no, kind)
        select upper(lpad(to_hex(n), 16, '0')), 'PERSONAL' from generate_series(1, ${CARDS}) n;
      insert into persons (tc_index, tc_enc)
        select sha256(int8send(n)), '\\x00'::bytea from generate_series(1, ${CARDS}) n;
      -- An open match per card and, for every tenth card, a closed one before it (the history
      -- the lookup orders), in no particular order of cards, as a registry fills: with two
      -- matches a card, or in card order, the old btree looked cheap enough to win all the same.
      insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
        select c.id, c.id, '\\x00', '\\x00', timestamptz '2020-01-01', timestamptz '2020-06-01', 'IMPORT', 'test'
        from cards c where c.id % 10 = 0 order by random();
      insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
        select c.id, c.id, '\\x00', '\\x00', timestamptz '2020-06-01', null, 'IMPORT', 'test'
        from cards c order by random()`);
    await db.pool.query('vacuum (analyze) cards, persons, matches');
    await db.pool.query(`select ensure_boardings_partition('${DAY}')`);
  }, 60_000);

  afterAll(async () => {
    await db.drop();
  });

  /** Index scans of the two indexes while `work` runs on one connection (flushed and read there). */
  async function scansDuring(work: (client: PoolClient) => Promise<void>) {
    const client = await db.pool.connect();
    const read = async () => {
      await client.query('select pg_stat_force_next_flush()');
      await client.query('select pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ name: string; scans: string }>(
        `select indexrelname as name, idx_scan as scans from pg_stat_user_indexes
         where indexrelname in ('matches_card_asof_idx', 'matches_one_per_card')`,
      );
      return Object.fromEntries(rows.map((r) => [r.name, Number(r.scans)]));
    };
    try {
      const before = await read();
      await work(client);
      // This backend's counters reach the shared stats when it next goes idle (read() forces it).
      const after = await read();
      return {
        btree: (after.matches_card_asof_idx ?? 0) - (before.matches_card_asof_idx ?? 0),
        gist: (after.matches_one_per_card ?? 0) - (before.matches_one_per_card ?? 0),
      };
    } finally {
      client.release();
    }
  }

  it("the ingest's as-of join of a batch of taps", async () => {
    const at = Date.parse(`${DAY}T10:00:00+03:00`);
    const taps: TapRow[] = Array.from({ length: 500 }, (_, i) => ({
      validatorId: 'BUS-1-1',
      seq: i + 1,
      serviceDay: DAY,
      cardNo: (i * 37 + 1).toString(16).toUpperCase().padStart(16, '0'),
      tappedAt: at + i,
      mode: 'BUS',
      lineCode: '1',
      vehicleId: null,
      stopCode: null,
      result: 'ACCEPTED',
      rejectReason: null,
      partition: 0,
      offset: i,
      timestamp: at + i + 1000,
      key: null,
      value: null,
    }));
    let matched = 0;
    const scans = await scansDuring(async (client) => {
      await client.query('begin');
      const r = await storeTapBatch(client, {
        topic: 'validator.taps.v1',
        taps,
        heartbeats: [],
        deadLetters: [],
      });
      await client.query('commit');
      matched = r.matched;
    });
    expect(matched).toBe(500);
    expect(scans.gist).toBe(0);
    expect(scans.btree).toBeGreaterThanOrEqual(500);
  });

  it('the card status recompute of many cards', async () => {
    const scans = await scansDuring(async (client) => {
      await client.query('select card_status_recompute(array(select id from cards where id <= 2000))');
    });
    expect(scans.gist).toBe(0);
    expect(scans.btree).toBeGreaterThanOrEqual(2000);
  });
});
