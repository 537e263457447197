import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { at, clearValuesIn, matchRows, useRegistryFixture } from '../registry-fixture.test-helpers';
import { matchCard } from './match-card';

const f = useRegistryFixture('reg_race');
/** Two contexts on two pools: two service processes writing the registry at once. */
let ctxA: RegistryContext;
let ctxB: RegistryContext;
let poolB: Pool;

beforeAll(async () => {
  const second = f.secondDb();
  poolB = second.pool;
  ctxA = f.ctx({ actor: { id: 'web', channel: 'WEB' } });
  ctxB = f.ctx({ actor: { id: 'kiosk', channel: 'KIOSK' }, db: second.db });
  // Warm both pools, so neither side of a race is still connecting while the other runs.
  await Promise.all([f.database.pool.query('select 1'), poolB.query('select 1')]);
});

const ROUNDS = 5;

/** A person's live (not retracted) matches. */
async function liveMatchesOfPerson(personId: number) {
  return matchRows(f.database.pool, 'm.person_id = $1 and m.retracted_at is null', [personId]);
}

async function personIdOf(cardNo: string): Promise<number> {
  const { rows } = await f.database.pool.query<{ person_id: number }>(
    'select m.person_id::int as person_id from matches m join cards c on c.id = m.card_id where c.card_no = $1 limit 1',
    [cardNo],
  );
  const id = rows[0]?.person_id;
  if (id === undefined) throw new Error('no match for that card');
  return id;
}

/** Pairs of live matches of one card or one person whose ranges overlap: must always be none. */
async function overlappingPairs(): Promise<number> {
  const { rows } = await f.database.pool.query<{ n: number }>(`
    select count(*)::int as n from matches a join matches b
      on a.id < b.id and (a.card_id = b.card_id or a.person_id = b.person_id)
     where a.retracted_at is null and b.retracted_at is null
       and tstzrange(a.valid_from, a.valid_to, '[)') && tstzrange(b.valid_from, b.valid_to, '[)')`);
  return rows[0]?.n ?? 0;
}

describe('matchCard under concurrency (two pools)', () => {
  it('two channels matching two cards to one person at the same instant: one wins, the other gets MATCH_OVERLAP', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const person = f.identity();
      const cardA = person.cardNo;
      const cardB = f.identity().cardNo;
      const when = at(`2020-11-0${round + 1}T09:00:00.000Z`);
      if (round % 2 === 1) {
        // Odd rounds: the person already holds a card, which the winner ends (lost card).
        await matchCard({
          ctx: ctxA,
          input: {
            cardNo: f.identity().cardNo,
            cardKind: 'PERSONAL',
            tcKimlikNo: person.tc,
            hesCode: person.hes,
            at: new Date(when.getTime() - 3_600_000),
          },
        });
      }
      const input = (cardNo: string) => ({
        cardNo,
        cardKind: 'PERSONAL' as const,
        tcKimlikNo: person.tc,
        hesCode: person.hes,
        at: when,
      });
      const results = await Promise.allSettled([
        matchCard({ ctx: ctxA, input: input(cardA) }),
        matchCard({ ctx: ctxB, input: input(cardB) }),
      ]);

      const fulfilled = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, value: r.value }] : []));
      const rejected = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      const err = rejected[0];
      expect(err).toBeInstanceOf(RegistryError);
      expect(err).toMatchObject({ code: 'MATCH_OVERLAP', retryable: true });
      expect(clearValuesIn(String((err as Error).message), [person])).toEqual([]);

      const winnerCard = fulfilled[0]?.i === 0 ? cardA : cardB;
      const loserCard = winnerCard === cardA ? cardB : cardA;
      const live = await liveMatchesOfPerson(await personIdOf(winnerCard));
      expect(live.filter((m) => m.valid_to === null).map((m) => [m.id, m.card_no, m.valid_from])).toEqual([
        [fulfilled[0]?.value.matchId, winnerCard, when],
      ]);
      expect(live).toHaveLength(round % 2 === 1 ? 2 : 1);
      // The loser's transaction left nothing behind, not even its card.
      const loser = await f.database.pool.query('select 1 from cards where card_no = $1', [loserCard]);
      expect(loser.rowCount).toBe(0);
    }
    expect(await overlappingPairs()).toBe(0);
  });

  it('with each channel on its own clock, any interleaving ends with one live card per person and only typed refusals', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const person = f.identity();
      const cards = [person.cardNo, f.identity().cardNo];
      const results = await Promise.allSettled(
        [ctxA, ctxB].map((ctx, i) =>
          matchCard({
            ctx,
            input: {
              cardNo: cards[i] ?? '',
              cardKind: 'ANONYMOUS',
              tcKimlikNo: person.tc,
              hesCode: person.hes,
            },
          }),
        ),
      );
      // Both may win in turn (the later one ends the earlier: a replaced card), or the one whose
      // clock reads earlier but commits later is refused: never an untyped or non-retryable error.
      for (const r of results) {
        if (r.status === 'rejected')
          expect(r.reason).toMatchObject({ code: 'MATCH_OVERLAP', retryable: true });
      }
      expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
      const winner = results.findIndex((r) => r.status === 'fulfilled');
      const live = await liveMatchesOfPerson(await personIdOf(cards[winner] ?? ''));
      expect(live.filter((m) => m.valid_to === null)).toHaveLength(1);
    }
    expect(await overlappingPairs()).toBe(0);
  });

  it('two channels matching one card to two people at once: one wins, the other is refused with a typed error', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const first = f.identity();
      const second = f.identity();
      // The card exists already (sold, never matched), so nothing serialises the two on its row.
      await f.database.pool.query(`insert into cards (card_no, kind) values ($1, 'PERSONAL')`, [
        first.cardNo,
      ]);
      const when = at(`2020-11-1${round}T07:00:00.000Z`);
      const results = await Promise.allSettled(
        [
          { ctx: ctxA, who: first },
          { ctx: ctxB, who: second },
        ].map(({ ctx, who }) =>
          matchCard({
            ctx,
            input: {
              cardNo: first.cardNo,
              cardKind: 'PERSONAL',
              tcKimlikNo: who.tc,
              hesCode: who.hes,
              at: when,
            },
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(RegistryError);
      // MATCH_OVERLAP when both passed the check before either committed (the exclusion
      // constraint decided), CARD_MATCHED_TO_ANOTHER_PERSON when the loser read after the commit.
      expect(['MATCH_OVERLAP', 'CARD_MATCHED_TO_ANOTHER_PERSON']).toContain(
        refused?.status === 'rejected' ? (refused.reason as RegistryError).code : 'none',
      );
      const rows = await matchRows(f.database.pool, 'c.card_no = $1', [first.cardNo]);
      expect(rows).toHaveLength(1);
    }
    expect(await overlappingPairs()).toBe(0);
  });
});

describe('the database itself refuses overlapping matches (exclusion constraints)', () => {
  let cardId: number;
  let personId: number;
  const T0 = at('2021-01-01T00:00:00.000Z');
  const T1 = at('2021-01-10T00:00:00.000Z');

  beforeAll(async () => {
    const id = f.identity();
    await matchCard({
      ctx: ctxA,
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const { rows } = await f.database.pool.query<{ card_id: number; person_id: number }>(
      `select m.card_id::int as card_id, m.person_id::int as person_id
         from matches m join cards c on c.id = m.card_id where c.card_no = $1`,
      [id.cardNo],
    );
    cardId = rows[0]?.card_id ?? 0;
    personId = rows[0]?.person_id ?? 0;
    // Close it at T1, so the edge can be tried too.
    await f.database.pool.query(`update matches set valid_to = $2 where card_id = $1`, [cardId, T1]);
  });

  const rawInsert = (pool: Pool, values: { card: number; person: number; from: Date; to: Date | null }) =>
    pool.query(
      `insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
       values ($1, $2, '\\x00', '\\x00', $3, $4, 'ADMIN', 'raw-sql') returning id`,
      [values.card, values.person, values.from, values.to],
    );

  async function otherPerson(): Promise<number> {
    const { rows } = await f.database.pool.query<{ id: number }>(
      `insert into persons (tc_index, tc_enc) values ($1, '\\x00') returning id::int as id`,
      [randomBytes(32)],
    );
    return rows[0]?.id ?? 0;
  }

  async function otherCard(): Promise<number> {
    const { rows } = await f.database.pool.query<{ id: number }>(
      `insert into cards (card_no, kind) values ($1, 'PERSONAL') returning id::int as id`,
      [f.identity().cardNo],
    );
    return rows[0]?.id ?? 0;
  }

  it('rejects with SQLSTATE 23P01 a raw insert overlapping the card or the person, bypassing the verbs', async () => {
    const inside = new Date(T0.getTime() + 86_400_000);
    await expect(
      rawInsert(f.database.pool, { card: cardId, person: await otherPerson(), from: inside, to: null }),
    ).rejects.toMatchObject({ code: '23P01', constraint: 'matches_one_per_card' });
    await expect(
      rawInsert(f.database.pool, { card: await otherCard(), person: personId, from: inside, to: T1 }),
    ).rejects.toMatchObject({ code: '23P01', constraint: 'matches_one_per_person' });
    // One millisecond of overlap is an overlap.
    await expect(
      rawInsert(f.database.pool, {
        card: cardId,
        person: personId,
        from: new Date(T1.getTime() - 1),
        to: null,
      }),
    ).rejects.toMatchObject({ code: '23P01' });
  });

  it('accepts a match starting exactly where the last one ends (ranges are half-open), and ignores retracted rows', async () => {
    const next = await rawInsert(f.database.pool, { card: cardId, person: personId, from: T1, to: null });
    const nextId = Number(next.rows[0]?.id);
    await f.database.pool.query(
      `update matches set retracted_at = now(), retract_reason = 'test' where id = $1`,
      [nextId],
    );
    // The retracted row no longer blocks its range: the same range goes in again.
    const again = await rawInsert(f.database.pool, { card: cardId, person: personId, from: T1, to: null });
    const rows = await matchRows(f.database.pool, 'm.card_id = $1', [cardId]);
    expect(rows.map((r) => [r.valid_from, r.valid_to, r.retracted_at === null])).toEqual([
      [T0, T1, true],
      [T1, null, false],
      [T1, null, true],
    ]);
    expect(rows[2]?.id).toBe(Number(again.rows[0]?.id));
  });

  it('refuses the second of two concurrent raw transactions inserting overlapping matches, once the first commits', async () => {
    const a = await f.database.pool.connect();
    const b = await poolB.connect();
    try {
      const from = at('2021-02-01T00:00:00.000Z');
      const card = await otherCard();
      await a.query('begin');
      await b.query('begin');
      await a.query(
        `insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
         values ($1, $2, '\\x00', '\\x00', $3, null, 'ADMIN', 'raw-a')`,
        [card, await otherPerson(), from],
      );
      // b waits on a's uncommitted row: the exclusion check cannot decide until a ends.
      const blocked = b
        .query(
          `insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
           values ($1, $2, '\\x00', '\\x00', $3, null, 'ADMIN', 'raw-b')`,
          [card, await otherPerson(), new Date(from.getTime() + 60_000)],
        )
        .then(
          () => 'inserted',
          (err: { code?: string }) => err.code,
        );
      await new Promise((r) => setTimeout(r, 100));
      await a.query('commit');
      expect(await blocked).toBe('23P01');
      await b.query('rollback');
      const rows = await f.database.pool.query('select actor from matches where card_id = $1', [card]);
      expect(rows.rows).toEqual([{ actor: 'raw-a' }]);
    } finally {
      a.release();
      b.release();
    }
  });
});
