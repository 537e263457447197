import {
  at,
  auditRows,
  clearValuesIn,
  countRows,
  matchRows,
  registryErrorOf,
  useRegistryFixture,
} from '../registry-fixture.test-helpers';
import { correctMatch } from './correct-match';
import { findMatchAt } from './find-match-at';
import { matchCard } from './match-card';

const f = useRegistryFixture('reg_correct_match');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-05T08:00:00.000Z');
const T2 = at('2020-11-08T08:00:00.000Z');
const NOW = at('2020-11-20T10:00:00.000Z');
const ms = (d: Date, delta: number) => new Date(d.getTime() + delta);

const tables = ['persons', 'cards', 'matches', 'registry_audit'] as const;
const counts = () => Promise.all(tables.map((t) => countRows(f.database.pool, t)));

describe('correctMatch', () => {
  it('back-dates a match: the wrong row is kept retracted with its reason, the corrected one is live', async () => {
    const id = f.identity();
    const rightHes = f.identity().hes;
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T1 },
    });
    const [before] = await matchRows(f.database.pool, 'm.id = $1', [matchId]);

    const result = await correctMatch({
      ctx: f.ctx({ now: NOW, actor: { id: 'admin-1', channel: 'ADMIN' } }),
      input: {
        matchId,
        reason: 'matched on paper on Nov 1st, keyed in late',
        replacement: { validFrom: T0, hesCode: rightHes },
      },
    });
    expect(result).toEqual({ retractedMatchId: matchId, matchId: expect.any(Number) });

    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({
      ...before,
      retracted_at: NOW,
      retract_reason: 'matched on paper on Nov 1st, keyed in late',
      corrected_by: result.matchId,
    });
    expect(rows[1]).toMatchObject({
      id: result.matchId,
      person_id: before?.person_id,
      valid_from: T0,
      valid_to: null,
      retracted_at: null,
      channel: 'ADMIN',
      actor: 'admin-1',
    });

    const find = (when: Date) =>
      findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: when, reveal: true } });
    expect(await find(ms(T0, -1))).toBeNull();
    expect(await find(T0)).toMatchObject({
      matchId: result.matchId,
      tcKimlikNo: id.tc,
      hesCode: `${rightHes.slice(0, 4)}-${rightHes.slice(4, 8)}-${rightHes.slice(8)}`,
    });
    expect((await find(T1))?.matchId).toBe(result.matchId);

    const audit = await auditRows(f.database.pool, "action = 'CORRECT_MATCH' and match_id = $1", [matchId]);
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'admin-1',
        channel: 'ADMIN',
        card_no: id.cardNo,
        detail: {
          reason: 'matched on paper on Nov 1st, keyed in late',
          retracted: { id: matchId, from: T1.toISOString(), to: null },
          replacement: {
            id: result.matchId,
            card: `************${id.cardNo.slice(-4)}`,
            hes: `****-****-${rightHes.slice(-2)}`,
            from: T0.toISOString(),
          },
        },
      }),
    ]);
    expect(clearValuesIn(JSON.stringify(audit), [id, { tc: id.tc, hes: rightHes }])).toEqual([]);
  });

  it('moves a match to the right person; the TC in the audit is masked', async () => {
    const wrong = f.identity();
    const right = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: wrong.cardNo,
        cardKind: 'ANONYMOUS',
        tcKimlikNo: wrong.tc,
        hesCode: wrong.hes,
        at: T0,
      },
    });
    const result = await correctMatch({
      ctx: f.ctx({ now: NOW }),
      input: {
        matchId,
        reason: 'wrong person keyed',
        replacement: { tcKimlikNo: right.tc, hesCode: right.hes },
      },
    });
    const view = await findMatchAt({ ctx: f.ctx(), input: { cardNo: wrong.cardNo, at: T1, reveal: true } });
    expect(view).toMatchObject({
      matchId: result.matchId,
      tcKimlikNo: right.tc,
      validFrom: T0,
      validTo: null,
    });
    const [audit] = await auditRows(f.database.pool, "action = 'CORRECT_MATCH' and match_id = $1", [matchId]);
    expect(audit?.detail.replacement).toMatchObject({ tc: `*******${right.tc.slice(-4)}` });
    expect(clearValuesIn(JSON.stringify(audit), [wrong, right])).toEqual([]);
  });

  it('refuses a correction that would overlap another live match (MATCH_OVERLAP) and changes nothing', async () => {
    const person = f.identity();
    const card2 = f.identity().cardNo;
    const first = await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: person.cardNo,
        cardKind: 'PERSONAL',
        tcKimlikNo: person.tc,
        hesCode: person.hes,
        at: T0,
      },
    });
    // A second card from T1 ends the first: [T0, T1) on card 1, [T1, open) on card 2.
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: card2, cardKind: 'PERSONAL', tcKimlikNo: person.tc, hesCode: person.hes, at: T1 },
    });
    const before = await matchRows(
      f.database.pool,
      'm.person_id = (select person_id from matches where id = $1)',
      [first.matchId],
    );
    const countsBefore = await counts();

    // Extending the first card's match to T2 would give the person two cards over [T1, T2).
    const err = await registryErrorOf(
      correctMatch({
        ctx: f.ctx({ now: NOW }),
        input: { matchId: first.matchId, reason: 'card was lost later', replacement: { validTo: T2 } },
      }),
    );
    expect(err).toMatchObject({
      code: 'MATCH_OVERLAP',
      retryable: true,
      details: { constraint: 'matches_one_per_person' },
    });
    expect(clearValuesIn(err.message, [person])).toEqual([]);
    expect(await counts()).toEqual(countsBefore);

    // Moving it onto a card somebody else holds over that time: the card rule.
    const other = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: other.cardNo, cardKind: 'PERSONAL', tcKimlikNo: other.tc, hesCode: other.hes, at: T0 },
    });
    const countsWithOther = await counts();
    const cardErr = await registryErrorOf(
      correctMatch({
        ctx: f.ctx({ now: NOW }),
        input: { matchId: first.matchId, reason: 'wrong card keyed', replacement: { cardNo: other.cardNo } },
      }),
    );
    expect(cardErr).toMatchObject({ code: 'MATCH_OVERLAP', details: { constraint: 'matches_one_per_card' } });

    const after = await matchRows(f.database.pool, 'm.person_id = $1', [before[0]?.person_id]);
    expect(after).toEqual(before);
    expect(await counts()).toEqual(countsWithOther);
  });

  it('refuses an empty corrected range (EMPTY_RANGE), an unknown or already retracted match (MATCH_NOT_FOUND) and a missing reason (INVALID_INPUT)', async () => {
    const id = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T1 },
    });
    const before = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    const correct = (input: Parameters<typeof correctMatch>[0]['input']) =>
      registryErrorOf(correctMatch({ ctx: f.ctx({ now: NOW }), input }));

    expect(
      (
        await correct({
          matchId,
          reason: 'ends before it starts',
          replacement: { validFrom: T1, validTo: T0 },
        })
      ).code,
    ).toBe('EMPTY_RANGE');
    expect((await correct({ matchId, reason: 'x', replacement: null })).code).toBe('INVALID_INPUT');
    expect((await correct({ matchId: 999_999_999, reason: 'does not exist', replacement: null })).code).toBe(
      'MATCH_NOT_FOUND',
    );
    expect(await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).toEqual(before);

    await correctMatch({
      ctx: f.ctx({ now: NOW }),
      input: { matchId, reason: 'never existed', replacement: null },
    });
    const again = await correct({ matchId, reason: 'never existed, twice', replacement: null });
    expect(again).toMatchObject({
      code: 'MATCH_NOT_FOUND',
      message: `match ${matchId} was already retracted`,
    });
    expect(await findMatchAt({ ctx: f.ctx(), input: { cardNo: id.cardNo, at: T1 } })).toBeNull();
  });
});
