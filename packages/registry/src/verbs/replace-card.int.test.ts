import {
  at,
  auditRows,
  clearValuesIn,
  countRows,
  matchRows,
  registryErrorOf,
  useRegistryFixture,
  withBadChecksum,
} from '../registry-fixture.test-helpers';
import { findMatchAt } from './find-match-at';
import { matchCard } from './match-card';
import { replaceCard } from './replace-card';

const f = useRegistryFixture('reg_replace_card');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-04T10:00:00.000Z');

describe('replaceCard', () => {
  it("ends the person's current match and carries the same HES code on the new card from then on", async () => {
    const id = f.identity();
    const newCard = f.identity().cardNo;
    const first = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const [before] = await matchRows(f.database.pool, 'm.id = $1', [first.matchId]);
    const result = await replaceCard({
      ctx: f.ctx({ actor: { id: 'clerk-2', channel: 'ACTIVATION_POINT' } }),
      input: { tcKimlikNo: id.tc, newCardNo: newCard, newCardKind: 'PERSONAL', at: T1 },
    });
    expect(result).toEqual({ matchId: expect.any(Number), endedMatchId: first.matchId });

    const rows = await matchRows(f.database.pool, 'm.person_id = $1', [before?.person_id]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({ ...before, valid_to: T1 });
    expect(rows[1]).toMatchObject({ id: result.matchId, card_no: newCard, valid_from: T1, valid_to: null });
    // Same HES code: the blind index says so without decrypting.
    expect(rows[1]?.hes_index.equals(before?.hes_index ?? Buffer.alloc(0))).toBe(true);
    const view = await findMatchAt({ ctx: f.ctx(), input: { cardNo: newCard, at: T1, reveal: true } });
    expect(view).toMatchObject({ tcKimlikNo: id.tc, personId: before?.person_id });
    expect(await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1 } })).toBeNull();

    const audit = await auditRows(f.database.pool, "action = 'REPLACE_CARD'");
    expect(audit).toEqual([
      expect.objectContaining({
        card_no: newCard,
        match_id: result.matchId,
        detail: {
          oldCard: `************${id.cardNo.slice(-4)}`,
          from: T1.toISOString(),
          endedMatchId: first.matchId,
        },
      }),
    ]);
    expect(clearValuesIn(JSON.stringify(audit), [id])).toEqual([]);
  });

  it('refuses a person with no card at that time (NO_CURRENT_MATCH), unknown or not yet matched, without echoing the TC', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T1 },
    });
    const stranger = f.identity();
    const cards = await countRows(f.database.pool, 'cards');
    for (const input of [
      { tcKimlikNo: stranger.tc, newCardNo: stranger.cardNo, newCardKind: 'PERSONAL' as const, at: T1 },
      { tcKimlikNo: id.tc, newCardNo: stranger.cardNo, newCardKind: 'PERSONAL' as const, at: T0 },
    ]) {
      const err = await registryErrorOf(replaceCard({ ctx: f.ctx(), input }));
      expect(err).toMatchObject({
        code: 'NO_CURRENT_MATCH',
        message: 'the person has no card matched at that time',
      });
      expect(clearValuesIn(err.message, [id, stranger])).toEqual([]);
    }
    expect(await countRows(f.database.pool, 'cards')).toBe(cards);
  });

  it('refuses a new card that is matched at that time (CARD_MATCHED_TO_ANOTHER_PERSON) and keeps the current match', async () => {
    const id = f.identity();
    const taken = f.identity();
    for (const who of [id, taken]) {
      await matchCard({
        ctx: f.ctx(),
        input: { cardNo: who.cardNo, cardKind: 'PERSONAL', tcKimlikNo: who.tc, hesCode: who.hes, at: T0 },
      });
    }
    const err = await registryErrorOf(
      replaceCard({
        ctx: f.ctx(),
        input: { tcKimlikNo: id.tc, newCardNo: taken.cardNo, newCardKind: 'PERSONAL', at: T1 },
      }),
    );
    expect(err.code).toBe('CARD_MATCHED_TO_ANOTHER_PERSON');
    expect(err.message).not.toContain(taken.cardNo);
    const rows = await matchRows(f.database.pool, 'c.card_no = any($1)', [[id.cardNo, taken.cardNo]]);
    expect(rows.map((r) => [r.card_no, r.valid_to])).toEqual([
      [id.cardNo, null],
      [taken.cardNo, null],
    ]);
  });

  it('refuses a new card registered with the other kind (CARD_KIND_CONFLICT)', async () => {
    const id = f.identity();
    const anon = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: anon.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: anon.tc, hesCode: anon.hes, at: T0 },
    });
    await f.database.pool.query(
      'update matches set valid_to = $2 where card_id = (select id from cards where card_no = $1)',
      [anon.cardNo, at('2020-11-02T00:00:00Z')],
    );
    const err = await registryErrorOf(
      replaceCard({
        ctx: f.ctx(),
        input: { tcKimlikNo: id.tc, newCardNo: anon.cardNo, newCardKind: 'PERSONAL', at: T1 },
      }),
    );
    expect(err).toMatchObject({
      code: 'CARD_KIND_CONFLICT',
      message: 'card is registered as ANONYMOUS, not PERSONAL',
    });
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).map((r) => r.valid_to)).toEqual([
      null,
    ]);
  });

  it('refuses a TC failing its check digits (INVALID_INPUT) without echoing it', async () => {
    const id = f.identity();
    const bad = withBadChecksum(id.tc);
    const err = await registryErrorOf(
      replaceCard({
        ctx: f.ctx(),
        input: { tcKimlikNo: bad, newCardNo: id.cardNo, newCardKind: 'PERSONAL', at: T1 },
      }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe('invalid input: tcKimlikNo: check digits do not match');
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(bad);
  });
});
