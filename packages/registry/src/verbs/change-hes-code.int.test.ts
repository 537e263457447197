import {
  at,
  auditRows,
  clearValuesIn,
  countRows,
  type Identity,
  matchRows,
  registryErrorOf,
  useRegistryFixture,
} from '../registry-fixture.test-helpers';
import { changeHesCode } from './change-hes-code';
import { findMatchAt } from './find-match-at';
import { matchCard } from './match-card';

const f = useRegistryFixture('reg_change_hes');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-03T09:15:00.000Z');

async function matched(id: Identity, from = T0) {
  return matchCard({
    ctx: f.ctx(),
    input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: from },
  });
}

describe('changeHesCode', () => {
  it('ends the current match at the change and starts one with the new HES code; the old row keeps every other column', async () => {
    const id = f.identity();
    const newHes = f.identity().hes;
    const first = await matched(id);
    const [before] = await matchRows(f.database.pool, 'm.id = $1', [first.matchId]);

    const result = await changeHesCode({
      ctx: f.ctx({ actor: { id: 'clerk-1', channel: 'ACTIVATION_POINT' } }),
      input: { cardNo: id.cardNo, hesCode: newHes, at: T1 },
    });
    expect(result).toEqual({ matchId: expect.any(Number), outcome: 'CHANGED', endedMatchId: first.matchId });

    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({ ...before, valid_to: T1 });
    expect(rows[1]).toMatchObject({
      id: result.matchId,
      person_id: before?.person_id,
      valid_from: T1,
      valid_to: null,
      channel: 'ACTIVATION_POINT',
      actor: 'clerk-1',
    });

    const view = await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1, reveal: true } });
    expect(view?.hesCode).toBe(`${newHes.slice(0, 4)}-${newHes.slice(4, 8)}-${newHes.slice(8)}`);
    const old = await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T0 } });
    expect(old?.matchId).toBe(first.matchId);

    const audit = await auditRows(f.database.pool, "action = 'CHANGE_HES_CODE' and match_id = $1", [
      result.matchId,
    ]);
    expect(audit).toEqual([
      expect.objectContaining({
        card_no: id.cardNo,
        channel: 'ACTIVATION_POINT',
        detail: { hes: `****-****-${newHes.slice(-2)}`, from: T1.toISOString(), endedMatchId: first.matchId },
      }),
    ]);
    expect(clearValuesIn(JSON.stringify(audit), [id, { tc: id.tc, hes: newHes }])).toEqual([]);
  });

  it('keeps a closed match closed: the new match ends where the old one ended', async () => {
    const id = f.identity();
    const first = await matched(id);
    const end = at('2020-11-10T00:00:00.000Z');
    await f.database.pool.query('update matches set valid_to = $2 where id = $1', [first.matchId, end]);
    const result = await changeHesCode({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, hesCode: f.identity().hes, at: T1 },
    });
    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows.map((r) => [r.id, r.valid_from, r.valid_to])).toEqual([
      [first.matchId, T0, T1],
      [result.matchId, T1, end],
    ]);
  });

  it('is a no-op when the HES code is the current one', async () => {
    const id = f.identity();
    const first = await matched(id);
    const before = await countRows(f.database.pool, 'matches');
    const result = await changeHesCode({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, hesCode: id.hes.toLowerCase(), at: T1 },
    });
    expect(result).toEqual({ matchId: first.matchId, outcome: 'UNCHANGED', endedMatchId: null });
    expect(await countRows(f.database.pool, 'matches')).toBe(before);
  });

  it('refuses a card without a match at that time (NO_CURRENT_MATCH), known or not', async () => {
    const id = f.identity();
    await matched(id, T1);
    const before = await countRows(f.database.pool, 'matches');
    const early = await registryErrorOf(
      changeHesCode({ ctx: f.ctx(), input: { cardNo: id.cardNo, hesCode: f.identity().hes, at: T0 } }),
    );
    expect(early).toMatchObject({ code: 'NO_CURRENT_MATCH', message: 'the card has no match at that time' });
    const unknown = await registryErrorOf(
      changeHesCode({ ctx: f.ctx(), input: { cardNo: f.identity().cardNo, hesCode: id.hes, at: T1 } }),
    );
    expect(unknown.code).toBe('NO_CURRENT_MATCH');
    expect(await countRows(f.database.pool, 'matches')).toBe(before);
  });

  it('refuses a change at the very start of the match (EMPTY_RANGE): that is a correction', async () => {
    const id = f.identity();
    await matched(id);
    const err = await registryErrorOf(
      changeHesCode({ ctx: f.ctx(), input: { cardNo: id.cardNo, hesCode: f.identity().hes, at: T0 } }),
    );
    expect(err.code).toBe('EMPTY_RANGE');
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).map((r) => r.valid_to)).toEqual([
      null,
    ]);
  });

  it('refuses a malformed HES code (INVALID_INPUT) without echoing it', async () => {
    const id = f.identity();
    await matched(id);
    const bad = `${id.hes}X`;
    const err = await registryErrorOf(
      changeHesCode({ ctx: f.ctx(), input: { cardNo: id.cardNo, hesCode: bad, at: T1 } }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain(bad);
    expect(clearValuesIn(err.message, [id])).toEqual([]);
  });
});
