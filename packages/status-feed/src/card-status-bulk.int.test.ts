import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';

/**
 * card_status_recompute has two ways to find each card's live match (migration 0012): one
 * index probe per card for a few cards, one pass over the live matches for many (an import's
 * COMMIT). Both must give every card the status SPEC §10 says, whichever kind of history it
 * has. Which way ran is read off PostgreSQL's scan counters of `matches`: a probe per card, or
 * a single scan.
 */
describe('card status recompute: a few cards and many cards give the same statuses', () => {
  let db: TestDatabase;
  // Six kinds of history, 500 cards each: enough for the one-pass way (at least 1,000 cards and
  // an eighth of matches).
  const PER_KIND = 500;
  const EXPECTED = ['ALLOWED', 'HES_RISKY', 'NOT_MATCHED', 'NOT_MATCHED', 'ALLOWED', 'NOT_MATCHED'];

  beforeAll(async () => {
    db = await createTestDatabase('card_status_bulk');
    const cards = PER_KIND * EXPECTED.length;
    // The statement triggers are off while the registry is written, so nothing is computed
    // before the test asks; the rows are what the registry holds, in no particular order.
    await db.pool.query(`
      alter table matches disable trigger user;
      insert into cards (card_no, kind)
        select upper(lpad(to_hex(n), 16, '0')), 'PERSONAL' from generate_series(1, ${cards}) n;
      insert into persons (tc_index, tc_enc)
        select sha256(int8send(n)), '\\x00'::bytea from generate_series(1, ${2 * cards}) n;
      insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor,
                           hes_status, retracted_at, retract_reason)
        select c.id, c.id, '\\x00', '\\x00',
               case c.id % 6 when 5 then now() + interval '30 days' else now() - interval '30 days' end,
               case c.id % 6 when 2 then now() - interval '1 day' else null end,
               'IMPORT', 'test',
               case c.id % 6 when 1 then 'RISKY' when 4 then 'RISKLESS' else null end,
               case c.id % 6 when 3 then now() - interval '2 days' else null end,
               case c.id % 6 when 3 then 'test' else null end
        from cards c order by random();
      -- Kind 4 also has an earlier, closed, risky match: the live one decides.
      insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor, hes_status)
        select c.id, ${cards} + c.id, '\\x00', '\\x00', now() - interval '90 days', now() - interval '30 days',
               'IMPORT', 'test', 'RISKY'
        from cards c where c.id % 6 = 4;
      alter table matches enable trigger user;
      analyze cards, persons, matches`);
  }, 60_000);

  afterAll(async () => {
    await db.drop();
  });

  /**
   * Scans of `matches` (any index, or the table) while the cards the query `cardIds` selects are
   * recomputed, and the statuses after it.
   */
  async function recompute(cardIds: string) {
    const client = await db.pool.connect();
    const scans = async () => {
      await client.query('select pg_stat_force_next_flush()');
      await client.query('select pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ n: string }>(
        `select coalesce(idx_scan, 0) + seq_scan as n from pg_stat_user_tables where relname = 'matches'`,
      );
      return Number(rows[0]?.n);
    };
    try {
      await client.query('truncate card_status, card_status_outbox');
      const before = await scans();
      await client.query(`select card_status_recompute(array(${cardIds}))`);
      const after = await scans();
      const { rows } = await client.query<{ kind: number; status: string; n: number }>(
        `select (card_id % 6)::int as kind, status, count(*)::int as n from card_status group by 1, 2 order by 1, 2`,
      );
      const outbox = await client.query<{ n: number }>('select count(*)::int as n from card_status_outbox');
      return { scans: after - before, statuses: rows, outbox: outbox.rows[0]?.n };
    } finally {
      client.release();
    }
  }

  const statusesOf = (n: number) => EXPECTED.map((status, kind) => ({ kind, status, n }));

  it('many cards: one pass over the live matches, every status as SPEC §10 says', async () => {
    const got = await recompute('select id from cards');
    expect(got.statuses).toEqual(statusesOf(PER_KIND));
    expect(got.outbox).toBe(PER_KIND * EXPECTED.length);
    expect(got.scans).toBeLessThanOrEqual(2);
  });

  it('a few cards: one probe each, the same statuses', async () => {
    const got = await recompute('select id from cards where id <= 60');
    expect(got.statuses).toEqual(statusesOf(10));
    expect(got.outbox).toBe(60);
    expect(got.scans).toBeGreaterThanOrEqual(60);
  });
});
