import {
  at,
  auditRows,
  clearValuesIn,
  registryErrorOf,
  useRegistryFixture,
} from '../registry-fixture.test-helpers';
import { correctMatch } from '../verbs/correct-match';
import { matchCard } from '../verbs/match-card';
import { unmatchCard } from '../verbs/unmatch-card';
import { getCardHistory } from './card-history';
import { lookUpCard } from './card-lookup';

const f = useRegistryFixture('reg_card_lookup');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-02T08:00:00.000Z');
const T2 = at('2020-11-03T08:00:00.000Z');
const BETWEEN_1_2 = at('2020-11-02T20:00:00.000Z');
const AFTER_2 = at('2020-11-04T00:00:00.000Z');

describe('lookUpCard: the match at an instant, or why there is none', () => {
  it('says a plain unmatch ended the match', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1 } });
    const r = await lookUpCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T2 } });
    expect(r).toMatchObject({ status: 'ENDED', match: null, ended: { at: T1, how: 'UNMATCHED' } });
  });

  it('says a correction ended the match early, and that a retracted match covered the instant', async () => {
    const id = f.identity();
    const m = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    await correctMatch({
      ctx: f.ctx({ now: T2 }),
      input: { matchId: m.matchId, reason: 'card returned on 2 Nov', replacement: { validTo: T1 } },
    });
    const ended = await lookUpCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: BETWEEN_1_2 } });
    expect(ended).toMatchObject({ status: 'ENDED', ended: { at: T1, how: 'CORRECTED' } });

    const other = f.identity();
    const wrong = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: other.cardNo, cardKind: 'PERSONAL', tcKimlikNo: other.tc, hesCode: other.hes, at: T0 },
    });
    await correctMatch({
      ctx: f.ctx({ now: T2 }),
      input: { matchId: wrong.matchId, reason: `typed ${other.tc} by mistake`, replacement: null },
    });
    const retracted = await lookUpCard({ ctx: f.ctx(), input: { cardNo: other.cardNo, at: T1 } });
    expect(retracted).toMatchObject({ status: 'RETRACTED', match: null, retracted: { at: T2 } });
    // A reason is free text: a TC pasted into it is masked on the way out.
    expect(clearValuesIn(JSON.stringify(retracted), [other])).toEqual([]);
    const history = await getCardHistory({ ctx: f.ctx(), input: { cardNo: other.cardNo } });
    expect(history.matches[0]?.retractReason).toMatch(/^typed \*{7}\d{4} by mistake$/);
  });

  it('answers MATCHED masked, NOT_YET_STARTED before the first match, UNKNOWN_CARD for a stranger', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T1 },
    });
    const now = await lookUpCard({ ctx: f.ctx(), input: { cardNo: id.cardNo.toLowerCase(), at: AFTER_2 } });
    expect(now).toMatchObject({ status: 'MATCHED', match: { validFrom: T1, validTo: null } });
    expect(clearValuesIn(JSON.stringify(now), [id])).toEqual([]);
    expect(await lookUpCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T0 } })).toMatchObject({
      status: 'NOT_YET_STARTED',
      startsAt: T1,
    });
    expect(await lookUpCard({ ctx: f.ctx(), input: { cardNo: f.identity().cardNo, at: T0 } })).toMatchObject({
      status: 'UNKNOWN_CARD',
    });
    const bad = await registryErrorOf(lookUpCard({ ctx: f.ctx(), input: { cardNo: 'not-a-card', at: T0 } }));
    expect(bad.code).toBe('INVALID_INPUT');
  });
});

describe('getCardHistory', () => {
  it('reads masked without an audit row; reveals with exactly one READ_CLEAR row holding the reason', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const where = "action = 'READ_CLEAR' and card_no = $1";
    const masked = await getCardHistory({ ctx: f.ctx(), input: { cardNo: id.cardNo } });
    expect(masked.matches).toHaveLength(1);
    expect(clearValuesIn(JSON.stringify(masked), [id])).toEqual([]);
    expect(await auditRows(f.database.pool, where, [id.cardNo])).toEqual([]);

    const clear = await getCardHistory({
      ctx: f.ctx({ actor: { id: 'ayse.data', channel: 'ADMIN' } }),
      input: { cardNo: id.cardNo, reveal: true, reason: 'explaining an unmatched tap' },
    });
    expect(clear.matches[0]?.tcKimlikNo).toBe(id.tc);
    const rows = await auditRows(f.database.pool, where, [id.cardNo]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor: 'ayse.data',
      detail: { reason: 'explaining an unmatched tap', matchIds: [clear.matches[0]?.matchId] },
    });
  });

  it('refuses a reveal without a reason of at least 10 characters', async () => {
    const id = f.identity();
    const err = await registryErrorOf(
      getCardHistory({ ctx: f.ctx(), input: { cardNo: id.cardNo, reveal: true, reason: 'short' } }),
    );
    expect(err.code).toBe('INVALID_INPUT');
  });
});
