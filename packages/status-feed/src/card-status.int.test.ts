import { changeHesCode } from '@boarding/registry/verbs/change-hes-code';
import { correctMatch } from '@boarding/registry/verbs/correct-match';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { replaceCard } from '@boarding/registry/verbs/replace-card';
import { unmatchCard } from '@boarding/registry/verbs/unmatch-card';
import { recomputeClockStatuses } from './clock-sweep';
import { explainCardStatus, outboxLag, readUnsent } from './outbox';
import { createStatusFixture, type StatusFixture } from './status-fixture.test-helpers';

// SPEC §10: every registry change that alters a card's status is in the outbox, in the change's
// own transaction (triggers on matches, migration 0009), with a version that grows per card.
describe('card status: kept by the database with every registry change', () => {
  let f: StatusFixture;
  const statusesOf = async (cardNo: string) =>
    (await readUnsent(f.database.db, 10_000))
      .filter((r) => r.cardNo === cardNo)
      .map((r) => [r.status, r.version]);

  beforeAll(async () => {
    f = await createStatusFixture('status_feed_status');
  });
  afterAll(async () => {
    await f.close();
  });

  it('match → ALLOWED (v1); risky HES change → HES_RISKY (v2); unmatch → NOT_MATCHED (v3)', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes },
    });
    expect(await statusesOf(id.cardNo)).toEqual([['ALLOWED', 1]]);
    const other = f.identity();
    await changeHesCode({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, hesCode: other.hes, hesStatus: 'RISKY' },
    });
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: id.cardNo } });
    expect(await statusesOf(id.cardNo)).toEqual([
      ['ALLOWED', 1],
      ['HES_RISKY', 2],
      ['NOT_MATCHED', 3],
    ]);
    const shown = await explainCardStatus(f.database.db, id.cardNo, new Date());
    expect(shown).toMatchObject({
      status: 'NOT_MATCHED',
      version: 3,
      published: false,
      reason: { kind: 'MATCH_ENDED' },
    });
  });

  it('a HES change to another RISKLESS code changes nothing on the feed', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: id.cardNo,
        cardKind: 'PERSONAL',
        tcKimlikNo: id.tc,
        hesCode: id.hes,
        hesStatus: 'RISKLESS',
      },
    });
    await changeHesCode({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, hesCode: f.identity().hes, hesStatus: 'RISKLESS' },
    });
    expect(await statusesOf(id.cardNo)).toEqual([['ALLOWED', 1]]);
  });

  it('a lost card: the old card NOT_MATCHED and the new one with the old status, in one transaction', async () => {
    const id = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: {
        cardNo: id.cardNo,
        cardKind: 'PERSONAL',
        tcKimlikNo: id.tc,
        hesCode: id.hes,
        hesStatus: 'RISKY',
      },
    });
    const fresh = f.identity().cardNo;
    await replaceCard({
      ctx: f.ctx(),
      input: { tcKimlikNo: id.tc, newCardNo: fresh, newCardKind: 'PERSONAL' },
    });
    expect(await statusesOf(id.cardNo)).toEqual([
      ['HES_RISKY', 1],
      ['NOT_MATCHED', 2],
    ]);
    expect(await statusesOf(fresh)).toEqual([['HES_RISKY', 1]]);
  });

  it('a correction that only retracts makes the card NOT_MATCHED; a rolled-back change writes nothing', async () => {
    const id = f.identity();
    const { matchId } = await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes },
    });
    await correctMatch({
      ctx: f.ctx(),
      input: { matchId, reason: 'typed for the wrong person', replacement: null },
    });
    expect(await statusesOf(id.cardNo)).toEqual([
      ['ALLOWED', 1],
      ['NOT_MATCHED', 2],
    ]);
    const before = await outboxLag(f.database.db);
    // Another person's match on the same card, at an instant the card is taken: refused, rolled back.
    const taken = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: taken.cardNo, cardKind: 'PERSONAL', tcKimlikNo: taken.tc, hesCode: taken.hes },
    });
    const afterMatch = await outboxLag(f.database.db);
    await expect(
      matchCard({
        ctx: f.ctx(),
        input: {
          cardNo: taken.cardNo,
          cardKind: 'PERSONAL',
          tcKimlikNo: f.identity().tc,
          hesCode: taken.hes,
        },
      }),
    ).rejects.toMatchObject({ code: 'CARD_MATCHED_TO_ANOTHER_PERSON' });
    expect((await outboxLag(f.database.db)).unsent).toBe(afterMatch.unsent);
    expect(afterMatch.unsent).toBe(before.unsent + 1);
  });

  it('a match that ends by the clock alone is NOT_MATCHED once the relay sweeps past its end', async () => {
    const id = f.identity();
    const since = new Date(Date.now() - 1000);
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: id.cardNo, cardKind: 'PERSONAL', tcKimlikNo: id.tc, hesCode: id.hes },
    });
    // An end written in advance (as a staff correction or an import row can): still ALLOWED now.
    await f.database.pool.query(
      `update matches set valid_to = clock_timestamp() + interval '300 milliseconds'
       where card_id = (select id from cards where card_no = $1)`,
      [id.cardNo],
    );
    expect(await statusesOf(id.cardNo)).toEqual([['ALLOWED', 1]]);
    await new Promise((r) => setTimeout(r, 500));
    // Nothing happened on `matches` when the end passed: the status is stale until the sweep.
    expect(await statusesOf(id.cardNo)).toEqual([['ALLOWED', 1]]);
    expect(await recomputeClockStatuses(f.database.pool, since)).toBeGreaterThanOrEqual(1);
    expect(await statusesOf(id.cardNo)).toEqual([
      ['ALLOWED', 1],
      ['NOT_MATCHED', 2],
    ]);
    // Swept again (the windows overlap): nothing changes, nothing more is published.
    await recomputeClockStatuses(f.database.pool, since);
    expect(await statusesOf(id.cardNo)).toEqual([
      ['ALLOWED', 1],
      ['NOT_MATCHED', 2],
    ]);
  });

  it('never holds a TC or HES code: the outbox and status tables have no such column', async () => {
    const { rows } = await f.database.pool.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
        where table_name in ('card_status', 'card_status_outbox') order by table_name, ordinal_position`,
    );
    expect(rows.map((r) => `${r.table_name}.${r.column_name}`)).toEqual([
      'card_status.card_id',
      'card_status.status',
      'card_status.since',
      'card_status.version',
      'card_status_outbox.id',
      'card_status_outbox.card_id',
      'card_status_outbox.status',
      'card_status_outbox.since',
      'card_status_outbox.version',
      'card_status_outbox.created_at',
      'card_status_outbox.sent_at',
    ]);
  });
});
