import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type ReplayPlanReport, type ReplayReport, replayDay } from '@boarding/day/replay-day';
import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import type { ExportSettings } from '@boarding/export/settings';
import { groupLag, waitForNoLag } from '@boarding/ingest/catch-up';
import { createIngestConsumer } from '@boarding/ingest/ingest-consumer';
import { createIngestMetrics } from '@boarding/ingest/metrics';
import { createLogger } from '@boarding/logger/logger';
import { changeHesCode } from '@boarding/registry/verbs/change-hes-code';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, produce, type TestMessage, type TestTopic } from '@boarding/testing/kafka';
import { registerReplay } from './replay';
import { runCommand } from './run-command.test-helpers';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const DAY = '2020-11-20';
const at = (local: string) => Date.parse(`${local}+03:00`);
const CARD_A = '0400000000000A01';
const CARD_B = '0400000000000B02';
const CARD_C = '0400000000000C03';
// Personal data that must never reach the command's output in clear.
const CLEAR = ['10000000146', '17291716060', 'ABCD1234X9', 'ZZZZ9999Q1', 'QQQQ1111Q7', CARD_A, CARD_B];

function tap(validatorId: string, seq: number, card: string, tappedAt: string): TestMessage {
  const value = JSON.stringify({
    schema: 'tap.v1',
    validatorId,
    seq,
    cardNo: card,
    tappedAt: `${tappedAt}+03:00`,
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: null,
    result: 'ACCEPTED',
    rejectReason: null,
  });
  // Uploaded a minute after the tap.
  return { key: validatorId, value, timestamp: at(tappedAt) + 60_000 };
}

describe('boarding replay', () => {
  let db: TestDatabase;
  let topic: TestTopic;
  let dir: string;
  let settings: ExportSettings;
  const keyring = loadKeyring();

  /** `boarding replay …` in-process, with the environment pointing at this test's stack parts. */
  const boarding = (args: string[]) =>
    runCommand(registerReplay, args, {
      DATABASE_URL: db.url,
      KAFKA_TAPS_TOPIC: topic.topic,
      EXPORT_DIR: dir,
      INGEST_CHUNK_SIZE: '3',
      INGEST_CONCURRENCY: '2',
      LOG_LEVEL: 'error',
    });

  const replayJson = async () =>
    JSON.parse((await boarding(['replay', '--day', DAY, '--json'])).stdout) as ReplayReport;

  /** The --deliver path, with the in-memory twin of the SFTP receiver. */
  const replayAndDeliver = (transport: InMemoryTransport) =>
    replayDay(
      {
        kafka: topic.kafka,
        pool: db.pool,
        keyring,
        settings,
        transport,
        logger: quiet,
        topic: topic.topic,
        maxTapAgeDays: 7,
        chunkSize: 3,
        concurrency: 2,
      },
      { day: DAY, deliver: true },
    );

  async function ingestAll(): Promise<void> {
    const groupId = `ingest-${randomUUID()}`;
    const consumer = createIngestConsumer({
      kafka: topic.kafka,
      pool: db.pool,
      topic: topic.topic,
      groupId,
      logger: quiet,
      metrics: createIngestMetrics(),
      maxTapAgeDays: 7,
      concurrency: 2,
      chunkSize: 3,
      sessionTimeoutMs: 6000,
    });
    const admin = topic.kafka.admin();
    await admin.connect();
    try {
      await consumer.start();
      await waitForNoLag({
        lag: () => groupLag(admin, groupId, topic.topic),
        intervalMs: 100,
        timeoutMs: 60000,
      });
    } finally {
      await consumer.stop();
      await admin.disconnect();
    }
  }

  /** A tap lost as a restore from an older backup loses it: ledger, boardings and progress agree. */
  async function lose(validatorId: string, seq: number): Promise<void> {
    await db.pool.query('delete from tap_keys where validator_id = $1 and seq = $2', [validatorId, seq]);
    await db.pool.query('delete from boardings where validator_id = $1 and seq = $2', [validatorId, seq]);
    await db.pool.query(
      `update validator_days d set tap_count = s.n, min_seq = s.lo, max_seq = s.hi
       from (select count(*) as n, min(seq) as lo, max(seq) as hi from boardings
             where validator_id = $1 and service_day = $2::date) s
       where d.validator_id = $1 and d.service_day = $2::date`,
      [validatorId, DAY],
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase('replay_cli');
    topic = await createTestTopic(2);
    dir = mkdtempSync(join(tmpdir(), 'replay-'));
    settings = {
      operator: 'ESHOT',
      gzip: false,
      outDir: dir,
      retry: { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 },
      tapsTopic: topic.topic,
    };
    const ctx = { db: db.db, keyring, actor: { id: 'test', channel: 'WEB' as const } };
    const since = '2020-11-01T00:00:00+03:00';
    await matchCard({
      ctx,
      input: {
        cardNo: CARD_A,
        cardKind: 'PERSONAL',
        tcKimlikNo: '10000000146',
        hesCode: 'ABCD1234X9',
        at: since,
      },
    });
    await matchCard({
      ctx,
      input: {
        cardNo: CARD_B,
        cardKind: 'ANONYMOUS',
        tcKimlikNo: '17291716060',
        hesCode: 'ZZZZ9999Q1',
        at: since,
      },
    });
    await produce(topic.kafka, topic.topic, [
      tap('BUS-1-1', 1, CARD_A, '2020-11-20T08:00:00.000'),
      tap('BUS-1-1', 2, CARD_B, '2020-11-20T08:05:00.000'),
      tap('BUS-1-1', 3, CARD_C, '2020-11-20T08:10:00.000'), // never matched: not in the file
      tap('BUS-1-1', 4, CARD_A, '2020-11-20T08:20:00.000'),
      tap('BUS-2-1', 1, CARD_B, '2020-11-20T09:00:00.000'),
    ]);
    await ingestAll();
  });

  afterAll(async () => {
    await topic.drop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds v1 without delivering it when no version was ever delivered, and says so', async () => {
    const report = await replayJson();
    expect(report.replay).toMatchObject({ messagesRead: 5, tapsOfDay: 5, storedOfDay: 0, alreadyStored: 5 });
    expect(report.export).toMatchObject({
      outcome: 'BUILT',
      version: 1,
      supersedes: null,
      file: 'BINIS_ESHOT_20201120_v1.csv',
      rows: 4,
      target: null,
      attempts: 0,
    });
    expect(report.comparison).toEqual({ kind: 'NO_VERSION_DELIVERED' });
  });

  it('with --deliver, delivers v1 (file, then manifest) to the receiver', async () => {
    const transport = new InMemoryTransport();
    const report = await replayAndDeliver(transport);
    expect(report.export).toMatchObject({ outcome: 'DELIVERED', version: 1, supersedes: null, attempts: 1 });
    expect(report.comparison).toEqual({ kind: 'NO_VERSION_DELIVERED' });
    expect(transport.calls).toEqual([
      ['BINIS_ESHOT_20201120_v1.csv', 'BINIS_ESHOT_20201120_v1.manifest.json'],
    ]);
  });

  describe('after a tap was lost, a tap arrived late and a HES code was corrected', () => {
    beforeAll(async () => {
      await lose('BUS-1-1', 2);
      await produce(topic.kafka, topic.topic, [tap('BUS-2-1', 2, CARD_A, '2020-11-20T10:00:00.000')]);
      // Back-dated to before the day: every row of card A changes its HES code.
      await changeHesCode({
        ctx: { db: db.db, keyring, actor: { id: 'test', channel: 'ADMIN' } },
        input: { cardNo: CARD_A, hesCode: 'QQQQ1111Q7', at: '2020-11-20T07:00:00+03:00' },
      });
    });

    it('--dry-run says what a replay would store and deliver, and writes nothing', async () => {
      const state = async () => {
        const { rows } = await db.pool.query<{ counts: string }>(
          `select concat_ws(' ', (select count(*) from boardings), (select count(*) from tap_keys),
                  (select count(*) from duplicate_taps), (select count(*) from dead_letters),
                  (select count(*) from export_versions)) as counts`,
        );
        return { counts: rows[0]?.counts, files: readdirSync(dir).sort() };
      };
      const before = await state();
      const plan = JSON.parse(
        (await boarding(['replay', '--day', DAY, '--dry-run', '--json'])).stdout,
      ) as ReplayPlanReport;
      expect(plan).toMatchObject({ day: DAY, dryRun: true, verdict: 'WOULD_DELIVER', version: 2 });
      // The lost BUS-1-1#2 and the late BUS-2-1#2: both of matched cards, both rows of the file.
      expect(plan.replay).toMatchObject({
        messagesRead: 6,
        tapsOfDay: 6,
        missingOfDay: 2,
        missingOfDayMatched: 2,
        missing: 2,
        unrecorded: 2,
        deadLetters: {},
      });
      // As stored now (before the replay), the HES correction alone already changes the file.
      expect(plan.plan).toMatchObject({
        outcome: 'WOULD_DELIVER',
        version: 2,
        rows: 3,
        lastSent: { version: 1 },
      });
      const { stdout, stderr } = await boarding(['replay', '--day', DAY, '--dry-run', '--deliver']);
      expect(stdout).toContain(`dry run of the replay of ${DAY} from ${topic.topic}: 6 messages read`);
      expect(stdout).toContain(
        `taps of ${DAY}: 6 read, 2 missing from the store (a replay stores them again; 2 of them are rows of the file)`,
      );
      expect(stdout).toContain('with --deliver: would deliver v2');
      for (const clear of CLEAR) {
        expect(stdout).not.toContain(clear);
        expect(stderr).not.toContain(clear);
      }
      expect(await state()).toEqual(before);
    });

    it('stores the missing taps again and shows the difference from v1 row by row, masked', async () => {
      const report = await replayJson();
      expect(report.replay).toMatchObject({
        messagesRead: 6,
        tapsOfDay: 6,
        storedOfDay: 2,
        stored: 2,
        matched: 2,
      });
      expect(report.export).toMatchObject({ outcome: 'BUILT', version: 2, supersedes: 1, rows: 5 });
      expect(report.comparison.kind).toBe('DIFF');
      if (report.comparison.kind !== 'DIFF') return;
      expect(report.comparison.against).toMatchObject({
        version: 1,
        file: 'BINIS_ESHOT_20201120_v1.csv',
        rows: 4,
      });
      const diff = report.comparison.diff;
      // BUS-1-1#2 is back as it was; BUS-2-1#1 untouched.
      expect(diff).toMatchObject({ added: 1, removed: 0, changed: 2, unchanged: 2 });
      expect(diff.samples.added).toEqual([
        expect.objectContaining({
          dogrulayici_no: 'BUS-2-1',
          islem_no: '2',
          tc_kimlik_no: '*******0146',
          hes_kodu: '****-****-Q7',
          kart_no: '************0A01',
        }),
      ]);
      expect(
        diff.samples.changed.map((c) => [
          c.dogrulayici_no,
          c.islem_no,
          c.columns,
          c.before.hes_kodu,
          c.after.hes_kodu,
        ]),
      ).toEqual([
        ['BUS-1-1', '1', ['hes_kodu'], '****-****-X9', '****-****-Q7'],
        ['BUS-1-1', '4', ['hes_kodu'], '****-****-X9', '****-****-Q7'],
      ]);
    });

    it('prints a human summary that never shows a TC, HES code or card number in clear', async () => {
      const { stdout, stderr } = await boarding(['replay', '--day', DAY]);
      expect(stdout).toContain(`replay of ${DAY} from ${topic.topic}: 6 messages read`);
      expect(stdout).toContain(`taps of ${DAY}: 6 read, 0 of them were missing and are stored again`);
      expect(stdout).toContain(
        'file: built v2 (would supersede v1); not delivered (add --deliver to deliver it)',
      );
      expect(stdout).toMatch(
        /difference from v1 \(BINIS_ESHOT_20201120_v1\.csv, delivered [^)]+\) to BINIS_ESHOT_20201120_v2\.csv: 1 added, 0 removed, 2 changed, 2 unchanged/,
      );
      expect(stdout).toContain('hes_kodu: ****-****-X9 → ****-****-Q7');
      for (const clear of CLEAR) {
        expect(stdout).not.toContain(clear);
        expect(stderr).not.toContain(clear);
      }
    });

    it('with --deliver, delivers v2 superseding v1; a replay after that finds nothing new', async () => {
      const transport = new InMemoryTransport();
      const delivered = await replayAndDeliver(transport);
      expect(delivered.export).toMatchObject({ outcome: 'DELIVERED', version: 2, supersedes: 1 });
      expect(delivered.comparison).toMatchObject({ kind: 'DIFF', against: { version: 1 } });
      expect([...transport.files.keys()].sort()).toEqual([
        'BINIS_ESHOT_20201120_v2.csv',
        'BINIS_ESHOT_20201120_v2.manifest.json',
      ]);
      const again = await replayJson();
      expect(again.export).toMatchObject({ outcome: 'UNCHANGED', version: 2 });
      expect(again.comparison).toMatchObject({ kind: 'UNCHANGED', against: { version: 2, rows: 5 } });
      const plan = JSON.parse(
        (await boarding(['replay', '--day', DAY, '--dry-run', '--json'])).stdout,
      ) as ReplayPlanReport;
      expect(plan).toMatchObject({
        verdict: 'UNCHANGED',
        version: null,
        replay: { missingOfDay: 0, unrecorded: 0 },
      });
      expect(plan.plan).toMatchObject({ outcome: 'UNCHANGED', version: 2 });
    });

    it('compares by rows and sha256 only when the delivered version has no local copy', async () => {
      const copy = join(dir, 'BINIS_ESHOT_20201120_v2.csv');
      expect(existsSync(copy)).toBe(true);
      unlinkSync(copy);
      await produce(topic.kafka, topic.topic, [tap('BUS-2-1', 3, CARD_B, '2020-11-20T11:00:00.000')]);
      const report = await replayJson();
      expect(report.export).toMatchObject({ outcome: 'BUILT', version: 3, supersedes: 2, rows: 6 });
      expect(report.comparison).toEqual({
        kind: 'NO_LOCAL_COPY',
        against: expect.objectContaining({ version: 2, rows: 5 }),
        localCopy: 'MISSING',
        rows: { delivered: 5, rebuilt: 6 },
        sha256: { delivered: expect.stringMatching(/^[0-9a-f]{64}$/), rebuilt: report.export.sha256 },
      });
      const { stdout } = await boarding(['replay', '--day', DAY]);
      expect(stdout).toContain(
        'v2 (BINIS_ESHOT_20201120_v2.csv) has no local copy in the export directory: compared by rows and sha256 only',
      );
      expect(stdout).toContain('rows 5 → 6');
    });
  });

  it('--from/--to replays each day in order, as --day would, and shows a row per day', async () => {
    const range = JSON.parse(
      (await boarding(['replay', '--from', '2020-11-19', '--to', DAY, '--json'])).stdout,
    ) as {
      from: string;
      to: string;
      days: ReplayReport[];
    };
    expect(range).toMatchObject({ from: '2020-11-19', to: DAY });
    expect(range.days.map((r) => r.day)).toEqual(['2020-11-19', DAY]);
    // D is as the single-day replay above left it (v3 built, not delivered): nothing new.
    expect(range.days[1]?.export).toMatchObject({ outcome: 'BUILT', version: 3, rows: 6 });
    expect(range.days[1]?.replay.storedOfDay).toBe(0);
    const { stdout } = await boarding(['replay', '--from', '2020-11-19', '--to', DAY]);
    expect(stdout).toContain(`replay of 2020-11-19 from ${topic.topic}`);
    expect(stdout).toContain('2 day(s) replayed');
    expect(stdout).toMatch(new RegExp(`${DAY}\\s*│\\s*\\d+\\s*│\\s*0\\s*│ built v3 \\(not delivered\\)`));
  });

  it('refuses a day that is not a date, or a range too long, before reading anything', async () => {
    await expect(boarding(['replay', '--day', '2020-11-31'])).rejects.toThrow(
      '--day must be a date as YYYY-MM-DD, got "2020-11-31"',
    );
    await expect(boarding(['replay', '--from', '2020-01-01', '--to', '2020-12-31'])).rejects.toThrow(
      'at most 62 at a time',
    );
  });
});
