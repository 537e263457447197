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
import { matchCard } from './match-card';

const f = useRegistryFixture('reg_match_card');

const T0 = at('2020-11-01T08:00:00.000Z');
const T1 = at('2020-11-05T12:30:00.000Z');

describe('matchCard', () => {
  it('creates the card, the person (sealed) and one open match, with an audit row holding masked values only', async () => {
    const id = f.identity();
    const result = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    expect(result).toEqual({ matchId: expect.any(Number), outcome: 'MATCHED', endedMatchIds: [] });

    const card = await f.database.pool.query('select card_no, kind from cards where card_no = $1', [
      id.cardNo,
    ]);
    expect(card.rows).toEqual([{ card_no: id.cardNo, kind: 'PERSONAL' }]);
    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: result.matchId,
      valid_from: T0,
      valid_to: null,
      retracted_at: null,
      channel: 'WEB',
      actor: 'test',
    });
    const person = await f.database.pool.query<{ tc_enc: Buffer; tc_index: Buffer }>(
      'select tc_enc, tc_index from persons where id = $1',
      [rows[0]?.person_id],
    );
    expect(person.rows).toHaveLength(1);
    expect(person.rows[0]?.tc_enc.includes(Buffer.from(id.tc))).toBe(false);

    const audit = await auditRows(f.database.pool, 'match_id = $1', [result.matchId]);
    expect(audit).toEqual([
      {
        action: 'MATCH_CARD',
        actor: 'test',
        channel: 'WEB',
        card_no: id.cardNo,
        person_id: rows[0]?.person_id,
        match_id: result.matchId,
        detail: {
          tc: `*******${id.tc.slice(-4)}`,
          hes: `****-****-${id.hes.slice(-2)}`,
          kind: 'PERSONAL',
          from: T0.toISOString(),
          endedMatchIds: [],
        },
      },
    ]);
    expect(clearValuesIn(JSON.stringify(audit), [id])).toEqual([]);
  });

  it('accepts a HES code with dashes, spaces and lower case and stores its normal form', async () => {
    const id = f.identity();
    const h = id.hes.toLowerCase();
    const messy = ` ${h.slice(0, 4)}-${h.slice(4, 8)} ${h.slice(8)} `;
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: id.cardNo.toLowerCase(),
        cardKind: 'ANONYMOUS',
        tcKimlikNo: id.tc,
        hesCode: messy,
        at: T0,
      },
    });
    // The same card, person and HES in normal form is recognised as the same match.
    const again = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'ANONYMOUS', tcKimlikNo: id.tc, hesCode: id.hes, at: T1 },
    });
    expect(again).toEqual({ matchId, outcome: 'UNCHANGED', endedMatchIds: [] });
  });

  it('is a no-op for the same card, person and HES code again: no new row, no audit row', async () => {
    const id = f.identity();
    const input = { cardNo: id.cardNo, cardKind: 'PERSONAL' as const, tcKimlikNo: id.tc, hesCode: id.hes };
    const first = await matchCard({ ctx: f.ctx(), input: { ...input, at: T0 } });
    const before = await countRows(f.database.pool, 'registry_audit');
    const second = await matchCard({ ctx: f.ctx(), input: { ...input, at: T1 } });
    expect(second).toEqual({ matchId: first.matchId, outcome: 'UNCHANGED', endedMatchIds: [] });
    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows.map((r) => [r.id, r.valid_from, r.valid_to])).toEqual([[first.matchId, T0, null]]);
    expect(await countRows(f.database.pool, 'registry_audit')).toBe(before);
  });

  it("ends the person's old card at the new card's start (a lost or replaced card), changing nothing else", async () => {
    const person = f.identity();
    const newCard = f.identity().cardNo;
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
    const [oldBefore] = await matchRows(f.database.pool, 'm.id = $1', [first.matchId]);

    const second = await matchCard({
      ctx: f.ctx({ actor: { id: 'kiosk-7', channel: 'KIOSK' } }),
      input: { cardNo: newCard, cardKind: 'PERSONAL', tcKimlikNo: person.tc, hesCode: person.hes, at: T1 },
    });
    expect(second).toEqual({
      matchId: expect.any(Number),
      outcome: 'MATCHED',
      endedMatchIds: [first.matchId],
    });

    const rows = await matchRows(f.database.pool, 'm.person_id = $1', [oldBefore?.person_id]);
    expect(rows.map((r) => ({ card: r.card_no, from: r.valid_from, to: r.valid_to }))).toEqual([
      { card: person.cardNo, from: T0, to: T1 },
      { card: newCard, from: T1, to: null },
    ]);
    // History: the old row is closed, every other column as it was.
    expect(rows[0]).toEqual({ ...oldBefore, valid_to: T1 });
    expect(rows[1]).toMatchObject({ channel: 'KIOSK', actor: 'kiosk-7' });
    const [audit] = await auditRows(f.database.pool, 'match_id = $1', [second.matchId]);
    expect(audit?.detail).toMatchObject({ endedMatchIds: [first.matchId] });
  });

  it('a new HES code on the same card ends the old match and starts a new one (history kept)', async () => {
    const id = f.identity();
    const newHes = f.identity().hes;
    const first = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const [before] = await matchRows(f.database.pool, 'm.id = $1', [first.matchId]);
    const second = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: newHes, at: T1 },
    });
    expect(second.endedMatchIds).toEqual([first.matchId]);
    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toEqual({ ...before, valid_to: T1 });
    expect(rows[1]).toMatchObject({ id: second.matchId, valid_from: T1, valid_to: null });
    expect(rows[1]?.hes_index.equals(rows[0]?.hes_index ?? Buffer.alloc(0))).toBe(false);
  });

  it('refuses a card matched to another person (CARD_MATCHED_TO_ANOTHER_PERSON) and writes nothing', async () => {
    const owner = f.identity();
    const other = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: owner.cardNo, cardKind: 'PERSONAL', tcKimlikNo: owner.tc, hesCode: owner.hes, at: T0 },
    });
    const counts = await Promise.all(
      (['persons', 'cards', 'matches', 'registry_audit'] as const).map((t) => countRows(f.database.pool, t)),
    );
    const err = await registryErrorOf(
      matchCard({
        ctx: f.ctx(),
        input: {
          cardNo: owner.cardNo,
          cardKind: 'PERSONAL',
          tcKimlikNo: other.tc,
          hesCode: other.hes,
          at: T1,
        },
      }),
    );
    expect(err.code).toBe('CARD_MATCHED_TO_ANOTHER_PERSON');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain(`************${owner.cardNo.slice(-4)}`);
    expect(err.message).not.toContain(owner.cardNo);
    expect(clearValuesIn(`${err.message} ${JSON.stringify(err.details)}`, [owner, other])).toEqual([]);
    // The other person's row, created inside the refused transaction, is rolled back too.
    expect(
      await Promise.all(
        (['persons', 'cards', 'matches', 'registry_audit'] as const).map((t) =>
          countRows(f.database.pool, t),
        ),
      ),
    ).toEqual(counts);
    const rows = await matchRows(f.database.pool, 'c.card_no = $1', [owner.cardNo]);
    expect(rows.map((r) => r.valid_to)).toEqual([null]);
  });

  it('refuses to change a card kind silently (CARD_KIND_CONFLICT)', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes, at: T0 },
    });
    const err = await registryErrorOf(
      matchCard({
        ctx: f.ctx(),
        input: {
          cardNo: id.cardNo,
          cardKind: 'ANONYMOUS',
          tcKimlikNo: id.tc,
          hesCode: f.identity().hes,
          at: T1,
        },
      }),
    );
    expect(err.code).toBe('CARD_KIND_CONFLICT');
    expect(err.message).toBe('card is registered as PERSONAL, not ANONYMOUS');
    const kind = await f.database.pool.query('select kind from cards where card_no = $1', [id.cardNo]);
    expect(kind.rows).toEqual([{ kind: 'PERSONAL' }]);
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).map((r) => r.valid_to)).toEqual([
      null,
    ]);
  });

  it('refuses a TC that fails its check digits (INVALID_INPUT) without echoing it, and writes nothing', async () => {
    const id = f.identity();
    const badTc = withBadChecksum(id.tc);
    const before = await countRows(f.database.pool, 'persons');
    const err = await registryErrorOf(
      matchCard({
        ctx: f.ctx(),
        input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: badTc, hesCode: id.hes, at: T0 },
      }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe('invalid input: tcKimlikNo: check digits do not match');
    expect(err.details).toEqual({ fields: ['tcKimlikNo'] });
    const shown = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
    expect(shown).not.toContain(badTc);
    expect(clearValuesIn(shown, [id])).toEqual([]);
    expect(await countRows(f.database.pool, 'persons')).toBe(before);
    expect((await matchRows(f.database.pool, 'c.card_no = $1', [id.cardNo])).length).toBe(0);
  });

  it('refuses a malformed HES code and TC of the wrong length without echoing them', async () => {
    const id = f.identity();
    const badHes = `${id.hes.slice(0, 7)}!`;
    const shortTc = id.tc.slice(0, 10);
    const err = await registryErrorOf(
      matchCard({
        ctx: f.ctx(),
        input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: shortTc, hesCode: badHes, at: T0 },
      }),
    );
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(
      'invalid input: tcKimlikNo: must have 11 digits; hesCode: must be 10 characters of A-Z 0-9 (dashes and spaces ignored)',
    );
    const shown = `${err.message} ${err.stack} ${JSON.stringify(err)}`;
    expect(shown).not.toContain(shortTc);
    expect(shown).not.toContain(badHes);
    expect(clearValuesIn(shown, [id])).toEqual([]);
  });

  it('refuses a match that would overlap a later match of the person (MATCH_OVERLAP from the database)', async () => {
    const person = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: person.cardNo,
        cardKind: 'PERSONAL',
        tcKimlikNo: person.tc,
        hesCode: person.hes,
        at: T1,
      },
    });
    // Back-dated, open-ended, on another card: it would run into the match from T1 on.
    const err = await registryErrorOf(
      matchCard({
        ctx: f.ctx(),
        input: {
          cardNo: f.identity().cardNo,
          cardKind: 'PERSONAL',
          tcKimlikNo: person.tc,
          hesCode: person.hes,
          at: T0,
        },
      }),
    );
    expect(err).toMatchObject({ code: 'MATCH_OVERLAP', retryable: true });
    expect(err.details).toEqual({ constraint: 'matches_one_per_person' });
    expect(clearValuesIn(err.message, [person])).toEqual([]);
  });
});
