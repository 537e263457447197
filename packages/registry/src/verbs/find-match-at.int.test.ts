import {
  at,
  auditRows,
  clearValuesIn,
  countRows,
  type Identity,
  registryErrorOf,
  useRegistryFixture,
} from '../registry-fixture.test-helpers';
import { changeHesCode } from './change-hes-code';
import { findMatchAt } from './find-match-at';
import { matchCard } from './match-card';
import { unmatchCard } from './unmatch-card';

const f = useRegistryFixture('reg_find_match_at');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-03T06:30:00.000Z');
const ms = (d: Date, delta: number) => new Date(d.getTime() + delta);

const display = (hes: string) => `${hes.slice(0, 4)}-${hes.slice(4, 8)}-${hes.slice(8)}`;

/** A card matched at T0 whose HES code changed at T1: [T0, T1) then [T1, open). */
async function cardWithHistory(): Promise<{ id: Identity; newHes: string; first: number; second: number }> {
  const id = f.identity();
  const newHes = f.identity().hes;
  const { matchId: first } = await matchCard({
    ctx: f.ctx(),
    input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
  });
  const { matchId: second } = await changeHesCode({
    ctx: f.ctx(),
    input: { cardNo: id.cardNo, hesCode: newHes, at: T1 },
  });
  return { id, newHes, first, second };
}

describe('findMatchAt', () => {
  it('includes valid_from and excludes valid_to: the edge instant belongs to the next match', async () => {
    const { id, first, second } = await cardWithHistory();
    const lookup = async (when: Date) =>
      (await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: when } }))?.matchId ?? null;
    expect(await lookup(ms(T0, -1))).toBeNull();
    expect(await lookup(T0)).toBe(first);
    expect(await lookup(ms(T1, -1))).toBe(first);
    expect(await lookup(T1)).toBe(second);
    expect(await lookup(at('2030-01-01T00:00:00Z'))).toBe(second);
  });

  it('finds nothing at the end of a last, closed match (the tap is unmatched)', async () => {
    const id = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1 } });
    const find = (when: Date) => findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: when } });
    expect((await find(ms(T1, -1)))?.matchId).toBe(matchId);
    expect(await find(T1)).toBeNull();
    expect(await find(ms(T0, -1))).toBeNull();
    // An unknown card is unmatched too, not an error.
    expect(await findMatchAt({ ctx: f.ctx(), input: { cardNo: f.identity().cardNo, at: T1 } })).toBeNull();
  });

  it('masks TC and HES by default and writes no audit row for a masked read', async () => {
    const { id, first } = await cardWithHistory();
    const audits = await countRows(f.database.pool, 'registry_audit');
    const view = await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T0 } });
    expect(view).toEqual({
      matchId: first,
      cardNo: id.cardNo,
      cardKind: 'PERSONAL',
      personId: expect.any(Number),
      tcKimlikNo: `*******${id.tc.slice(-4)}`,
      hesCode: `****-****-${id.hes.slice(-2)}`,
      validFrom: T0,
      validTo: T1,
      retractedAt: null,
      retractReason: null,
      channel: 'WEB',
      hesStatus: null,
    });
    expect(view?.tcKimlikNo).toMatch(/^\*{7}\d{4}$/);
    expect(view?.hesCode).toMatch(/^\*{4}-\*{4}-[A-Z0-9]{2}$/);
    expect(clearValuesIn(JSON.stringify(view), [id])).toEqual([]);
    expect(await countRows(f.database.pool, 'registry_audit')).toBe(audits);
  });

  it('reveals TC and HES (display form) on request and records a READ_CLEAR audit row with masked detail', async () => {
    const { id, newHes, second } = await cardWithHistory();
    const ctx = f.ctx({ actor: { id: 'investigator-3', channel: 'ADMIN' } });
    const view = await findMatchAt({ ctx, input: { cardNo: id.cardNo, at: T1, reveal: true } });
    expect(view).toMatchObject({ matchId: second, tcKimlikNo: id.tc, hesCode: display(newHes) });
    const audit = await auditRows(f.database.pool, "action = 'READ_CLEAR' and match_id = $1", [second]);
    expect(audit).toEqual([
      {
        action: 'READ_CLEAR',
        actor: 'investigator-3',
        channel: 'ADMIN',
        card_no: id.cardNo,
        person_id: view?.personId,
        match_id: second,
        detail: { via: 'findMatchAt', at: T1.toISOString() },
      },
    ]);
    expect(clearValuesIn(JSON.stringify(audit), [id, { tc: id.tc, hes: newHes }])).toEqual([]);
  });

  it('writes no READ_CLEAR row when a revealing lookup finds nothing', async () => {
    const audits = await countRows(f.database.pool, 'registry_audit');
    expect(
      await findMatchAt({ ctx: f.ctx(), input: { cardNo: f.identity().cardNo, at: T0, reveal: true } }),
    ).toBeNull();
    expect(await countRows(f.database.pool, 'registry_audit')).toBe(audits);
  });

  it('refuses a malformed card number or time (INVALID_INPUT)', async () => {
    const err = await registryErrorOf(findMatchAt({ ctx: f.ctx(), input: { cardNo: 'not-a-card', at: T0 } }));
    expect(err).toMatchObject({ code: 'INVALID_INPUT', details: { fields: ['cardNo'] } });
    const time = await registryErrorOf(
      findMatchAt({ ctx: f.ctx(), input: { cardNo: f.identity().cardNo, at: 'yesterday' } }),
    );
    expect(time).toMatchObject({ code: 'INVALID_INPUT', details: { fields: ['at'] } });
  });
});
