import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { spawnBoarding } from '@boarding/testing/cli-process';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { registerExport } from './export';
import { runCommand } from './run-command.test-helpers';

const DAY = '2020-11-20';
const FILE = 'BINIS_ESHOT_20201120_v1.csv';
// Written out: the file the Ministry must receive for the day below (SPEC §4), byte for byte.
const EXPECTED =
  'tc_kimlik_no,hes_kodu,kart_no,kart_turu,binis_zamani,ulasim_turu,hat_kodu,arac_no,durak_kodu,dogrulayici_no,islem_no,sonuc,red_nedeni\r\n' +
  '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T07:59:59+03:00,VAPUR,"Karşıyaka, İskele",,KSK,FERRY-3,41,KABUL,\r\n' +
  '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T23:59:59+03:00,METRO,M1,,EVKA3,METRO-EVKA3-2,7,RED,HES_RISKY\r\n';

describe('boarding export run / status', () => {
  let db: TestDatabase;
  let sftp: TestSftpDir;
  let outDir: string;

  /** `boarding export …` in-process with this test's database, SFTP dir and export dir. */
  const boarding = async (args: string[], env: Record<string, string> = {}) =>
    (
      await runCommand(registerExport, args, {
        DATABASE_URL: db.url,
        EXPORT_DIR: outDir,
        SFTP_REMOTE_DIR: sftp.remoteDir,
        DELIVERY_ATTEMPTS: '2',
        DELIVERY_BACKOFF_MS: '50',
        ...env,
      })
    ).stdout;

  beforeAll(async () => {
    db = await createTestDatabase('cli_export');
    sftp = await createTestSftpDir('cli-export');
    outDir = await mkdtemp(join(tmpdir(), 'cli-export-'));
    // The CLI decrypts with the configured keyring (the stack's dev key), so the fixture uses it.
    const ctx = { db: db.db, keyring: loadKeyring(), actor: { id: 'test', channel: 'WEB' as const } };
    await matchCard({
      ctx,
      input: {
        cardNo: '0400000000000A01',
        cardKind: 'PERSONAL',
        tcKimlikNo: '10000000146',
        hesCode: 'ABCD1234X9',
        at: '2020-11-01T00:00:00Z',
      },
    });
    await db.pool.query(`select ensure_boardings_partition('${DAY}')`);
    const tap = (
      v: string,
      seq: number,
      at: string,
      mode: string,
      line: string,
      stop: string,
      reason: string | null,
    ) =>
      db.pool.query(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                                result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         values ($1, $2, $3, '0400000000000A01', $4, $5, $6, null, $7, $8, $9, null, 0, $3, $4)`,
        [DAY, v, seq, at, mode, line, stop, reason ? 'REJECTED' : 'ACCEPTED', reason],
      );
    // A comma in the line code is quoted; 23:59:59.999 is cut, never rounded into the next day.
    await tap('METRO-EVKA3-2', 7, '2020-11-20T23:59:59.999+03:00', 'METRO', 'M1', 'EVKA3', 'HES_RISKY');
    await tap('FERRY-3', 41, '2020-11-20T07:59:59.400+03:00', 'FERRY', 'Karşıyaka, İskele', 'KSK', null);
  });

  afterAll(async () => {
    await sftp.remove();
    await db.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('delivers the day file, exactly as SPEC §4 says, with its manifest', async () => {
    const result = JSON.parse(await boarding(['export', 'run', '--day', DAY, '--json']));
    expect(result).toMatchObject({ outcome: 'DELIVERED', serviceDay: DAY, version: 1, supersedes: null });
    expect(await readFile(join(sftp.localDir, FILE), 'utf8')).toBe(EXPECTED);
    expect((await readdir(sftp.localDir)).sort()).toEqual([FILE, 'BINIS_ESHOT_20201120_v1.manifest.json']);
    const manifest = JSON.parse(
      await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v1.manifest.json'), 'utf8'),
    );
    expect(Object.keys(manifest)).toEqual([
      'serviceDay',
      'version',
      'file',
      'bytes',
      'sha256',
      'rows',
      'generatedAt',
      'supersedes',
      'stats',
    ]);
    expect(manifest).toMatchObject({
      serviceDay: DAY,
      version: 1,
      file: FILE,
      bytes: Buffer.byteLength(EXPECTED),
      rows: 2,
    });
  });

  it('says so when nothing changed, and the ledger shows both runs', async () => {
    const human = await boarding(['export', 'run', '--day', DAY]);
    expect(human).toContain(`day ${DAY}: unchanged since v1: nothing delivered`);
    const status = JSON.parse(await boarding(['export', 'status', '--day', DAY, '--json']));
    expect(status.versions).toEqual([
      expect.objectContaining({ version: 1, file: FILE, rows: 2, supersedes: null }),
    ]);
    expect(
      status.attempts.map((a: { outcome: string; trigger: string }) => `${a.outcome} ${a.trigger}`),
    ).toEqual(['UNCHANGED cli', 'DELIVERED cli']);
  });

  it('fails with a clear error, and a ledger row, when the server is not the pinned one', async () => {
    await db.pool.query(`update boardings set stop_code = 'KSK2' where validator_id = 'FERRY-3'`);
    await expect(
      boarding(['export', 'run', '--day', DAY], { SFTP_HOST_KEY_SHA256: `SHA256:${'B'.repeat(43)}` }),
    ).rejects.toMatchObject({
      code: 'SFTP_HOST_KEY_MISMATCH',
      message: expect.stringMatching(/host key mismatch/),
    });
    const status = JSON.parse(await boarding(['export', 'status', '--day', DAY, '--json']));
    expect(status.attempts[0]).toMatchObject({
      version: 2,
      outcome: 'FAILED',
      errorCode: 'SFTP_HOST_KEY_MISMATCH',
    });
    expect(await readdir(sftp.localDir)).not.toContain('BINIS_ESHOT_20201120_v2.csv');
  });

  /** Everything a run could change: ledger rows, versions, the export dir, the receiver's dir. */
  const state = async () => ({
    attempts: (await db.pool.query('select *, service_day::text as day from delivery_attempts order by id'))
      .rows,
    versions: (await db.pool.query('select * from export_versions order by service_day, version')).rows,
    exportDir: (await readdir(outDir)).sort(),
    receiver: (await readdir(sftp.localDir)).sort(),
  });

  it('--dry-run says what would be delivered, changes nothing, and the real run then delivers exactly that', async () => {
    // Since the failed try above, the day's content differs from v1 (the stop code changed).
    const before = await state();
    const plan = JSON.parse(await boarding(['export', 'run', '--day', DAY, '--dry-run', '--json']));
    expect(plan).toMatchObject({
      serviceDay: DAY,
      outcome: 'WOULD_DELIVER',
      version: 2,
      supersedes: 1,
      resend: false,
      file: 'BINIS_ESHOT_20201120_v2.csv',
      rows: 2,
      lastSent: { version: 1, state: 'DELIVERED' },
    });
    const human = await boarding(['export', 'run', '--day', DAY, '--dry-run']);
    expect(human).toContain(
      `day ${DAY}: would deliver v2 (superseding v1) (BINIS_ESHOT_20201120_v2.csv: 2 rows,`,
    );
    expect(human).toContain('dry run: nothing was written, built on disk or sent');
    expect(await state()).toEqual(before);

    const delivered = JSON.parse(await boarding(['export', 'run', '--day', DAY, '--json']));
    expect(delivered).toMatchObject({ outcome: 'DELIVERED', version: 2 });
    const bytes = await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.csv'));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(plan.sha256);
    expect(bytes.length).toBe(plan.bytes);

    const again = JSON.parse(await boarding(['export', 'run', '--day', DAY, '--dry-run', '--json']));
    expect(again).toMatchObject({ outcome: 'UNCHANGED', version: 2, sha256: plan.sha256 });
  });

  it('--from/--to runs each day in order, skips days with nothing to deliver, and its dry run changes nothing', async () => {
    const before = await state();
    const dry = JSON.parse(
      await boarding(['export', 'run', '--from', '2020-11-19', '--to', '2020-11-21', '--dry-run', '--json']),
    );
    expect(dry.days.map((d: { day: string; outcome: string }) => `${d.day} ${d.outcome}`)).toEqual([
      '2020-11-19 NOTHING_TO_DELIVER',
      `${DAY} UNCHANGED`,
      '2020-11-21 NOTHING_TO_DELIVER',
    ]);
    const table = await boarding([
      'export',
      'run',
      '--from',
      '2020-11-19',
      '--to',
      '2020-11-21',
      '--dry-run',
    ]);
    expect(table).toContain('dry run: nothing was written, built on disk or sent');
    expect(table).toMatch(new RegExp(`${DAY}\\s*│ unchanged since v2`));
    expect(await state()).toEqual(before);

    const run = JSON.parse(await boarding(['export', 'run', '--from', '2020-11-19', '--to', DAY, '--json']));
    expect(run).toMatchObject({ from: '2020-11-19', to: DAY, dryRun: false });
    expect(run.days.map((d: { outcome: string }) => d.outcome)).toEqual(['NOTHING_TO_DELIVER', 'UNCHANGED']);
    // The skipped day left no trace; the run of D is in the ledger as any run is.
    const after = await state();
    expect(after.versions).toEqual(before.versions);
    expect(after.attempts.slice(before.attempts.length).map((a) => `${a.day} ${a.outcome}`)).toEqual([
      `${DAY} UNCHANGED`,
    ]);
  });

  it('a range whose delivery fails exits 5 and, with --json, prints only the error as JSON', async () => {
    await db.pool.query(`update boardings set stop_code = 'KSK3' where validator_id = 'FERRY-3'`);
    const run = await spawnBoarding(['export', 'run', '--from', DAY, '--to', '2020-11-22', '--json'], {
      ...process.env,
      DATABASE_URL: db.url,
      EXPORT_DIR: outDir,
      SFTP_REMOTE_DIR: sftp.remoteDir,
      SFTP_HOST_KEY_SHA256: `SHA256:${'B'.repeat(43)}`,
      DELIVERY_ATTEMPTS: '1',
      LOG_LEVEL: 'error',
    }).done;
    expect(run.code).toBe(5);
    const lines = run.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      error: {
        code: 'SFTP_HOST_KEY_MISMATCH',
        message: expect.stringMatching(
          new RegExp(
            `^${DAY}: delivery failed after 1 attempt\\(s\\): .*host key mismatch.*\\(days done before it: 0; not run: 2020-11-21\\.\\.2020-11-22\\)$`,
          ),
        ),
      },
    });
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a day that is not a date', async () => {
    await expect(boarding(['export', 'run', '--day', '2020-13-45'])).rejects.toThrow(
      '--day must be a date as YYYY-MM-DD, got "2020-13-45"',
    );
  });
});
