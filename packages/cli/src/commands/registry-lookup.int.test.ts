import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@boarding/encryption/keyring';
import { changeHesCode } from '@boarding/registry/verbs/change-hes-code';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { replaceCard } from '@boarding/registry/verbs/replace-card';
import { killRunningBoardings, spawnBoarding } from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';

// Synthetic, checksum-valid TC (SPEC §3) and made-up HES codes; random keys: nothing real.
const TC = '17291716060';
const HES1 = 'AB12CD34EF';
const HES2 = 'ABCD1234X9';
const CARD_A = '04A1B2C3D4E5F6';
const CARD_B = '04FFEE0011223344';
const NEVER = '04DEADBEEF0000';

// Card A: matched at T0 with HES1, HES changed to HES2 at T1, replaced by card B at T2.
const T0 = new Date('2020-11-01T08:00:00.000Z');
const T1 = new Date('2020-11-02T08:00:00.000Z');
const T2 = new Date('2020-11-03T08:00:00.000Z');

const CLEAR_FORMS = [TC, HES1, HES2, 'AB12-CD34-EF', 'ABCD-1234-X9'];
const clearIn = (text: string) => CLEAR_FORMS.filter((v) => text.includes(v));

describe('boarding registry show / history', () => {
  let db: TestDatabase;
  let dir: string;
  let keyFilePath: string;

  /** `boarding registry <args>` as its own process, with this test's database and key file. */
  async function boarding(args: string[], env: Record<string, string> = {}) {
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const name of ['PII_KEYS', 'PII_ACTIVE_KEY_ID', 'PII_INDEX_KEY', 'BOARDING_ACTOR'])
      delete base[name];
    return spawnBoarding(['registry', ...args], {
      ...base,
      DATABASE_URL: db.url,
      PII_KEY_FILE: keyFilePath,
      ...env,
    }).done;
  }

  const auditRows = async () =>
    (
      await db.pool.query<{
        action: string;
        actor: string;
        card_no: string | null;
        detail: Record<string, unknown>;
      }>('select action, actor, card_no, detail from registry_audit order by id')
    ).rows;

  beforeAll(async () => {
    db = await createTestDatabase('cli_registry_lookup');
    dir = await mkdtemp(join(tmpdir(), 'cli-registry-lookup-'));
    const k1 = randomBytes(32);
    const index = randomBytes(32);
    keyFilePath = join(dir, 'keys.json');
    await writeFile(
      keyFilePath,
      JSON.stringify({
        version: 1,
        activeKeyId: 'k1',
        keys: { k1: k1.toString('base64') },
        indexKey: index.toString('base64'),
      }),
      { mode: 0o600 },
    );
    const keyring = new Keyring({ activeKeyId: 'k1', dataKeys: { k1 }, indexKey: index });
    const ctx = { db: db.db, keyring, actor: { id: 'setup', channel: 'ADMIN' as const } };
    await matchCard({
      ctx,
      input: { cardNo: CARD_A, cardKind: 'PERSONAL', tcKimlikNo: TC, hesCode: HES1, at: T0 },
    });
    await changeHesCode({ ctx, input: { cardNo: CARD_A, hesCode: HES2, at: T1 } });
    await replaceCard({ ctx, input: { tcKimlikNo: TC, newCardNo: CARD_B, newCardKind: 'PERSONAL', at: T2 } });
    await db.pool.query('delete from registry_audit');
  });
  afterAll(async () => {
    killRunningBoardings();
    await rm(dir, { recursive: true, force: true });
    await db.drop();
  });

  describe('show', () => {
    it('gives the match in force at each instant, masked', async () => {
      const first = await boarding([
        'show',
        '--card',
        CARD_A.toLowerCase(),
        '--at',
        '2020-11-01T12:00:00+03:00',
      ]);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('*******6060');
      expect(first.stdout).toContain('****-****-EF');
      expect(first.stdout).toContain('PERSONAL');
      expect(first.stdout).toContain('2020-11-01T08:00:00.000Z');
      expect(first.stdout).toContain('2020-11-02T08:00:00.000Z');

      const second = await boarding(['show', '--card', CARD_A, '--at', '2020-11-02T08:00:00Z', '--json']);
      expect(second.code).toBe(0);
      const shown = JSON.parse(second.stdout) as {
        status: string;
        match: { tcKimlikNo: string; hesCode: string; validFrom: string; validTo: string | null };
      };
      expect(shown.status).toBe('MATCHED');
      expect(shown.match).toMatchObject({
        tcKimlikNo: '*******6060',
        hesCode: '****-****-X9',
        validFrom: T1.toISOString(),
        validTo: T2.toISOString(),
      });
      expect(clearIn(first.stdout + first.stderr + second.stdout + second.stderr)).toEqual([]);
    });

    it('says the match ended, and that the card was replaced by another, after the replacement', async () => {
      const run = await boarding(['show', '--card', CARD_A, '--at', '2020-11-04T00:00:00Z']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('no match at 2020-11-04T00:00:00.000Z');
      expect(run.stdout).toContain('the match ended at 2020-11-03T08:00:00.000Z');
      expect(run.stdout).toContain('replaced by card ************3344');
      const json = JSON.parse(
        (await boarding(['show', '--card', CARD_A, '--at', '2020-11-04T00:00:00Z', '--json'])).stdout,
      );
      expect(json).toMatchObject({
        status: 'ENDED',
        match: null,
        ended: { at: T2.toISOString(), how: 'REPLACED' },
      });
    });

    it('says the match starts later, before the first match', async () => {
      const run = await boarding(['show', '--card', CARD_A, '--at', '2020-10-01T00:00:00+03:00']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        'the match starts at 2020-11-01T08:00:00.000Z, after 2020-09-30T21:00:00.000Z',
      );
    });

    it('defaults to now: the new card is matched, the old one is not', async () => {
      const b = await boarding(['show', '--card', CARD_B, '--json']);
      expect(JSON.parse(b.stdout)).toMatchObject({ status: 'MATCHED', match: { hesCode: '****-****-X9' } });
      const a = await boarding(['show', '--card', CARD_A, '--json']);
      expect(JSON.parse(a.stdout)).toMatchObject({ status: 'ENDED' });
    });

    it('says an unknown card was never matched', async () => {
      const run = await boarding(['show', '--card', NEVER]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('the card was never matched');
      expect(JSON.parse((await boarding(['show', '--card', NEVER, '--json'])).stdout)).toMatchObject({
        status: 'UNKNOWN_CARD',
      });
    });

    it('refuses a malformed card number or instant with a clear message', async () => {
      const card = await boarding(['show', '--card', 'XYZ-12']);
      expect(card.code).toBe(2);
      expect(card.stderr).toContain('--card must be 8-20 characters of 0-9 A-F');
      const instant = await boarding(['show', '--card', CARD_A, '--at', '2020-11-01 12:00']);
      expect(instant.code).toBe(2);
      expect(instant.stderr).toContain('--at must be an ISO 8601 instant with an offset');
    });
  });

  describe('history', () => {
    it('lists every match of the card, oldest first, masked, and writes no audit row', async () => {
      const run = await boarding(['history', '--card', CARD_A]);
      expect(run.code).toBe(0);
      expect(run.stdout.indexOf('****-****-EF')).toBeGreaterThan(-1);
      expect(run.stdout.indexOf('****-****-X9')).toBeGreaterThan(run.stdout.indexOf('****-****-EF'));
      const json = JSON.parse((await boarding(['history', '--card', CARD_A, '--json'])).stdout) as {
        matches: { hesCode: string; tcKimlikNo: string; validFrom: string }[];
      };
      expect(json.matches.map((m) => [m.validFrom, m.tcKimlikNo, m.hesCode])).toEqual([
        [T0.toISOString(), '*******6060', '****-****-EF'],
        [T1.toISOString(), '*******6060', '****-****-X9'],
      ]);
      expect(clearIn(run.stdout + run.stderr + JSON.stringify(json))).toEqual([]);
      expect(await auditRows()).toEqual([]);
    });

    it('with --reveal --reason shows clear values and writes exactly one audit row naming the reason', async () => {
      const reason = 'unmatched tap 2020-11-04, ticket OPS-118';
      const run = await boarding(['history', '--card', CARD_A, '--reveal', '--reason', reason], {
        BOARDING_ACTOR: 'ayse.data',
      });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(TC);
      expect(run.stdout).toContain('AB12-CD34-EF');
      expect(run.stdout).toContain('ABCD-1234-X9');
      expect(clearIn(run.stderr)).toEqual([]);
      const rows = await auditRows();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'READ_CLEAR', actor: 'ayse.data', card_no: CARD_A });
      expect(rows[0]?.detail).toMatchObject({ reason });
      expect(clearIn(JSON.stringify(rows))).toEqual([]);
      await db.pool.query('delete from registry_audit');
    });

    it('refuses --reveal without a reason of at least 10 characters, reading nothing', async () => {
      const bare = await boarding(['history', '--card', CARD_A, '--reveal']);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain('--reveal needs --reason');
      const short = await boarding(['history', '--card', CARD_A, '--reveal', '--reason', 'because']);
      expect(short.code).toBe(2);
      expect(short.stderr).toContain('at least 10 characters');
      expect(clearIn(bare.stdout + short.stdout)).toEqual([]);
      expect(await auditRows()).toEqual([]);
    });

    it('says an unknown card has no history', async () => {
      const run = await boarding(['history', '--card', NEVER]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('the card was never matched');
    });
  });
});
