import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { HesServiceUnavailableError, type HesVerifier } from '@boarding/hes/verifier';
import type { Pool } from 'pg';
import {
  auditRows,
  clearValuesIn,
  createRegistryFixture,
  type Identity,
  type RegistryFixture,
} from '../registry-fixture.test-helpers';
import { matchCard } from './match-card';
import { type RefreshHesStatusesProgress, refreshHesStatuses } from './refresh-hes-statuses';
import { unmatchCard } from './unmatch-card';

/** Each card's status and version in card_status, and its outbox rows in order, by card number. */
async function feedOf(pool: Pool, cardNo: string) {
  const { rows: status } = await pool.query<{ status: string; version: number }>(
    `select s.status, s.version from card_status s join cards c on c.id = s.card_id where c.card_no = $1`,
    [cardNo],
  );
  const { rows: outbox } = await pool.query<{ status: string; version: number }>(
    `select o.status, o.version from card_status_outbox o join cards c on c.id = o.card_id
      where c.card_no = $1 order by o.id`,
    [cardNo],
  );
  return { status: status[0], outbox: outbox.map((r) => [r.status, r.version]) };
}

async function hesStatusOf(pool: Pool, cardNo: string): Promise<(string | null)[]> {
  const { rows } = await pool.query<{ hes_status: string | null }>(
    `select m.hes_status from matches m join cards c on c.id = m.card_id where c.card_no = $1 order by m.id`,
    [cardNo],
  );
  return rows.map((r) => r.hes_status);
}

async function counts(pool: Pool) {
  const { rows } = await pool.query<{ outbox: number; audit: number }>(
    `select (select count(*)::int from card_status_outbox) as outbox,
            (select count(*)::int from registry_audit where action = 'HES_STATUS_CHANGED') as audit`,
  );
  return rows[0];
}

const ACTOR = { id: 'hes-refresh', channel: 'ADMIN' } as const;

describe('refreshHesStatuses (SPEC §10 scheduled HES refresh)', () => {
  let f: RegistryFixture;
  afterEach(async () => {
    await f.close();
  });

  /** Match each identity (asked RISKLESS unless told), and a twin that knows them all as RISKLESS. */
  async function setUp(label: string, n: number, options: { unasked?: number[] } = {}) {
    f = await createRegistryFixture(label);
    const ids: Identity[] = [];
    const hes = new InMemoryHesVerifier();
    for (let i = 0; i < n; i++) {
      const id = f.identity();
      ids.push(id);
      hes.add({ hesCode: id.hes, tcKimlikNo: id.tc, status: 'RISKLESS' });
      await matchCard({
        ctx: f.ctx(),
        input: {
          cardNo: id.cardNo,
          cardKind: 'PERSONAL',
          tcKimlikNo: id.tc,
          hesCode: id.hes,
          // A match nobody asked the service about (the bulk import) has no status yet.
          ...(options.unasked?.includes(i) ? {} : { hesStatus: 'RISKLESS' as const }),
        },
      });
    }
    return { ids, hes };
  }

  it('stores a holder turned risky: card HES_RISKY with an outbox row, audited masked; a second run changes nothing', async () => {
    const {
      ids: [risky, steady, unasked, ended, mismatched],
      hes,
    } = await setUp('reg_refresh_risky', 5, { unasked: [2] });
    if (!risky || !steady || !unasked || !ended || !mismatched) throw new Error('five identities');
    // Not live any more: never asked (checked counts live matches only).
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: ended.cardNo } });
    // The code now belongs to somebody else.
    hes.add({ hesCode: mismatched.hes, tcKimlikNo: f.identity().tc, status: 'RISKY' });
    expect(hes.setStatus(risky.hes, 'RISKY')).toBe(true);

    const progress: RefreshHesStatusesProgress[] = [];
    const result = await refreshHesStatuses({
      ctx: f.ctx({ actor: ACTOR }),
      hes,
      input: { batchSize: 2 },
      onProgress: (p) => progress.push(p),
    });
    expect(result).toEqual({
      checked: 4,
      changed: 2,
      risky: 1,
      riskless: 2,
      mismatched: 1,
      superseded: 0,
      batches: 2,
    });
    expect(hes.calls).toBe(2);
    expect(progress.map((p) => p.checked)).toEqual([2, 4]);

    expect(await feedOf(f.database.pool, risky.cardNo)).toEqual({
      status: { status: 'HES_RISKY', version: 2 },
      outbox: [
        ['ALLOWED', 1],
        ['HES_RISKY', 2],
      ],
    });
    // null → RISKLESS is stored (and audited) but the card stays ALLOWED: nothing new on the feed.
    expect(await feedOf(f.database.pool, unasked.cardNo)).toEqual({
      status: { status: 'ALLOWED', version: 1 },
      outbox: [['ALLOWED', 1]],
    });
    expect(await hesStatusOf(f.database.pool, unasked.cardNo)).toEqual(['RISKLESS']);
    expect(await hesStatusOf(f.database.pool, mismatched.cardNo)).toEqual(['RISKLESS']);
    expect(await hesStatusOf(f.database.pool, ended.cardNo)).toEqual(['RISKLESS']);

    const audit = await auditRows(f.database.pool, "action = 'HES_STATUS_CHANGED'");
    expect(audit).toEqual([
      expect.objectContaining({
        card_no: risky.cardNo,
        actor: 'hes-refresh',
        channel: 'ADMIN',
        detail: { hes: `****-****-${risky.hes.slice(-2)}`, from: 'RISKLESS', to: 'RISKY' },
      }),
      expect.objectContaining({
        card_no: unasked.cardNo,
        detail: { hes: `****-****-${unasked.hes.slice(-2)}`, from: null, to: 'RISKLESS' },
      }),
    ]);
    const everyone = [risky, steady, unasked, ended, mismatched];
    expect(clearValuesIn(JSON.stringify(audit), everyone)).toEqual([]);
    const reported = progress.flatMap((p) => p.batchMismatches);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ maskedTc: `*******${mismatched.tc.slice(-4)}` });
    expect(clearValuesIn(JSON.stringify(progress), everyone)).toEqual([]);
    expect(JSON.stringify(progress)).not.toContain(mismatched.cardNo);

    const before = await counts(f.database.pool);
    const again = await refreshHesStatuses({ ctx: f.ctx({ actor: ACTOR }), hes });
    expect(again).toMatchObject({ checked: 4, changed: 0, mismatched: 1, batches: 1 });
    expect(await counts(f.database.pool)).toEqual(before);

    // Back to riskless: the card is ALLOWED again, a version later.
    hes.setStatus(risky.hes, 'RISKLESS');
    await refreshHesStatuses({ ctx: f.ctx({ actor: ACTOR }), hes });
    expect((await feedOf(f.database.pool, risky.cardNo)).outbox).toEqual([
      ['ALLOWED', 1],
      ['HES_RISKY', 2],
      ['ALLOWED', 3],
    ]);
  });

  it('fails with HesServiceUnavailableError when the service is away, writing nothing', async () => {
    const {
      ids: [risky],
      hes,
    } = await setUp('reg_refresh_away', 2);
    if (!risky) throw new Error('an identity');
    hes.setStatus(risky.hes, 'RISKY');
    hes.setAvailable(false);
    const before = await counts(f.database.pool);
    await expect(refreshHesStatuses({ ctx: f.ctx({ actor: ACTOR }), hes })).rejects.toBeInstanceOf(
      HesServiceUnavailableError,
    );
    expect(await counts(f.database.pool)).toEqual(before);
    expect(await hesStatusOf(f.database.pool, risky.cardNo)).toEqual(['RISKLESS']);
  });

  it('keeps the batches done before the service went away, and writes nothing of the failed one', async () => {
    const { ids, hes } = await setUp('reg_refresh_half', 4);
    for (const id of ids) hes.setStatus(id.hes, 'RISKY');
    let requests = 0;
    const failingSecond: Pick<HesVerifier, 'statuses'> = {
      statuses: async (inputs, options) => {
        requests++;
        if (requests === 2) throw new HesServiceUnavailableError('TIMEOUT', 'no answer within 3000 ms');
        return hes.statuses(inputs, options);
      },
    };
    await expect(
      refreshHesStatuses({ ctx: f.ctx({ actor: ACTOR }), hes: failingSecond, input: { batchSize: 2 } }),
    ).rejects.toMatchObject({ code: 'HES_SERVICE_UNAVAILABLE', reason: 'TIMEOUT' });
    const statuses = await Promise.all(ids.map((id) => hesStatusOf(f.database.pool, id.cardNo)));
    expect(statuses).toEqual([['RISKY'], ['RISKY'], ['RISKLESS'], ['RISKLESS']]);
    expect((await counts(f.database.pool))?.audit).toBe(2);
    // The next run asks everyone again and finishes the rest.
    const rerun = await refreshHesStatuses({ ctx: f.ctx({ actor: ACTOR }), hes, input: { batchSize: 2 } });
    expect(rerun).toMatchObject({ checked: 4, changed: 2, risky: 4 });
  });

  it('leaves alone a match ended while the service was being asked (superseded)', async () => {
    const {
      ids: [id],
      hes,
    } = await setUp('reg_refresh_race', 1);
    if (!id) throw new Error('an identity');
    hes.setStatus(id.hes, 'RISKY');
    const endsMeanwhile: Pick<HesVerifier, 'statuses'> = {
      statuses: async (inputs, options) => {
        const answers = await hes.statuses(inputs, options);
        await unmatchCard({ ctx: f.ctx(), input: { cardNo: id.cardNo } });
        return answers;
      },
    };
    const result = await refreshHesStatuses({ ctx: f.ctx({ actor: ACTOR }), hes: endsMeanwhile });
    expect(result).toMatchObject({ checked: 1, risky: 1, changed: 0, superseded: 1 });
    expect(await hesStatusOf(f.database.pool, id.cardNo)).toEqual(['RISKLESS']);
    expect((await feedOf(f.database.pool, id.cardNo)).outbox).toEqual([
      ['ALLOWED', 1],
      ['NOT_MATCHED', 2],
    ]);
  });

  it('refuses a batch size the service would not take, before reading anything', async () => {
    f = await createRegistryFixture('reg_refresh_input');
    const hes = new InMemoryHesVerifier();
    await expect(refreshHesStatuses({ ctx: f.ctx(), hes, input: { batchSize: 1001 } })).rejects.toMatchObject(
      { code: 'INVALID_INPUT' },
    );
    expect(hes.calls).toBe(0);
  });
});
