import {
  at,
  auditRows,
  clearValuesIn,
  countRows,
  registryErrorOf,
  useRegistryFixture,
  withBadChecksum,
} from '../registry-fixture.test-helpers';
import { changeHesCode } from './change-hes-code';
import { correctMatch } from './correct-match';
import { getMatchHistory } from './get-match-history';
import { matchCard } from './match-card';

const f = useRegistryFixture('reg_history');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-02T08:00:00.000Z');
const T2 = at('2020-11-03T08:00:00.000Z');

describe('getMatchHistory', () => {
  it("lists a person's matches across cards, and a card's, oldest first with retracted ones, masked", async () => {
    const id = f.identity();
    const card2 = f.identity().cardNo;
    const hes2 = f.identity().hes;
    const a = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const b = await changeHesCode({ ctx: f.ctx(), input: { cardNo: id.cardNo, hesCode: hes2, at: T1 } });
    const c = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: card2, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: hes2, at: T2 },
    });
    const retracted = await correctMatch({
      ctx: f.ctx({ now: T2 }),
      input: { matchId: c.matchId, reason: 'typed the wrong card', replacement: null },
    });
    expect(retracted).toEqual({ retractedMatchId: c.matchId, matchId: null });

    const audits = await countRows(f.database.pool, 'registry_audit');
    const byPerson = await getMatchHistory({ ctx: f.ctx(), input: { tcKimlikNo: id.tc } });
    expect(byPerson.map((v) => [v.matchId, v.cardNo, v.validFrom, v.validTo, v.retractReason])).toEqual([
      [a.matchId, id.cardNo, T0, T1, null],
      [b.matchId, id.cardNo, T1, T2, null],
      [c.matchId, card2, T2, null, 'typed the wrong card'],
    ]);
    expect(byPerson[2]?.retractedAt).toEqual(T2);
    expect(byPerson.map((v) => v.hesCode)).toEqual([
      `****-****-${id.hes.slice(-2)}`,
      `****-****-${hes2.slice(-2)}`,
      `****-****-${hes2.slice(-2)}`,
    ]);
    expect(clearValuesIn(JSON.stringify(byPerson), [id, { tc: id.tc, hes: hes2 }])).toEqual([]);
    const byCard = await getMatchHistory({ ctx: f.ctx(), input: { cardNo: id.cardNo } });
    expect(byCard.map((v) => v.matchId)).toEqual([a.matchId, b.matchId]);
    expect(await countRows(f.database.pool, 'registry_audit')).toBe(audits);
  });

  it('reveals on request and audits every row read in clear', async () => {
    const id = f.identity();
    const hes2 = f.identity().hes;
    const a = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const b = await changeHesCode({ ctx: f.ctx(), input: { cardNo: id.cardNo, hesCode: hes2, at: T1 } });
    const views = await getMatchHistory({ ctx: f.ctx(), input: { cardNo: id.cardNo, reveal: true } });
    expect(views.map((v) => [v.tcKimlikNo, v.hesCode])).toEqual([
      [id.tc, `${id.hes.slice(0, 4)}-${id.hes.slice(4, 8)}-${id.hes.slice(8)}`],
      [id.tc, `${hes2.slice(0, 4)}-${hes2.slice(4, 8)}-${hes2.slice(8)}`],
    ]);
    const audit = await auditRows(f.database.pool, "action = 'READ_CLEAR' and card_no = $1", [id.cardNo]);
    expect(audit.map((r) => [r.match_id, r.detail])).toEqual([
      [a.matchId, { via: 'getMatchHistory' }],
      [b.matchId, { via: 'getMatchHistory' }],
    ]);
  });

  it('returns nothing for an unknown person and refuses a bad TC (INVALID_INPUT) without echoing it', async () => {
    const id = f.identity();
    expect(await getMatchHistory({ ctx: f.ctx(), input: { tcKimlikNo: id.tc, reveal: true } })).toEqual([]);
    const bad = withBadChecksum(id.tc);
    const err = await registryErrorOf(getMatchHistory({ ctx: f.ctx(), input: { tcKimlikNo: bad } }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain(bad);
  });
});
