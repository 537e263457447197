import {
  at,
  auditRows,
  countRows,
  matchRows,
  registryErrorOf,
  useRegistryFixture,
} from '../registry-fixture.test-helpers';
import { findMatchAt } from './find-match-at';
import { matchCard } from './match-card';
import { unmatchCard } from './unmatch-card';

const f = useRegistryFixture('reg_unmatch');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-02T17:45:00.000Z');

describe('unmatchCard', () => {
  it('ends the current match at the given time and nothing else; taps from then on are unmatched', async () => {
    const id = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const [before] = await matchRows(f.database.pool, 'm.id = $1', [matchId]);
    const result = await unmatchCard({
      ctx: f.ctx({ actor: { channel: 'ADMIN' } }),
      input: { cardNo: id.cardNo, at: T1 },
    });
    expect(result).toEqual({ endedMatchId: matchId });

    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows).toEqual([{ ...before, valid_to: T1 }]);
    expect(await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1 } })).toBeNull();
    expect(
      (await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: new Date(T1.getTime() - 1) } }))
        ?.matchId,
    ).toBe(matchId);
    expect(await auditRows(f.database.pool, "action = 'UNMATCH_CARD' and match_id = $1", [matchId])).toEqual([
      expect.objectContaining({ card_no: id.cardNo, channel: 'ADMIN', detail: { to: T1.toISOString() } }),
    ]);
  });

  it('uses the context clock when no time is given', async () => {
    const id = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    await unmatchCard({ ctx: f.ctx({ now: T1 }), input: { cardNo: id.cardNo } });
    expect((await matchRows(f.database.pool, 'm.id = $1', [matchId]))[0]?.valid_to).toEqual(T1);
  });

  it('refuses a card with no match at that time (NO_CURRENT_MATCH): unknown, not yet matched, already ended', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1 } });
    const audits = await countRows(f.database.pool, 'registry_audit');
    for (const input of [
      { cardNo: f.identity().cardNo, at: T1 },
      { cardNo: id.cardNo, at: new Date(T0.getTime() - 1) },
      { cardNo: id.cardNo, at: T1 },
    ]) {
      const err = await registryErrorOf(unmatchCard({ ctx: f.ctx(), input }));
      expect(err).toMatchObject({ code: 'NO_CURRENT_MATCH', retryable: false });
    }
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).map((r) => r.valid_to)).toEqual([
      T1,
    ]);
    expect(await countRows(f.database.pool, 'registry_audit')).toBe(audits);
  });

  it('refuses to end a match at its start (EMPTY_RANGE) and a malformed card number (INVALID_INPUT)', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    expect(
      (await registryErrorOf(unmatchCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T0 } }))).code,
    ).toBe('EMPTY_RANGE');
    const bad = await registryErrorOf(unmatchCard({ ctx: f.ctx(), input: { cardNo: 'XYZ', at: T1 } }));
    expect(bad).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'invalid input: cardNo: must be 8-20 characters of 0-9 A-F',
    });
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).map((r) => r.valid_to)).toEqual([
      null,
    ]);
  });
});
