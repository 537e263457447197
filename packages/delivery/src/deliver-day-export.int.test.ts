import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportSettings } from '@boarding/export/settings';
import { correctMatch } from '@boarding/registry/verbs/correct-match';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { TcpProxy } from '@boarding/testing/tcp-proxy';
import { type DayExportContext, deliverDayExport } from './deliver-day-export';
import { readLedger } from './ledger';
import { DeliveryFailedError } from './retry';
import { createSftpTransport } from './sftp-transport';

const DAY = '2020-11-20';
const CARD_A = '0400000000000A01';
const CARD_B = '0400000000000B02';

describe('deliverDayExport: versions, delivery by SFTP and the ledger (SPEC §4)', () => {
  let db: TestDatabase;
  let sftp: TestSftpDir;
  let outDir: string;
  const keyring = createKeyringForTests();
  let settings: ExportSettings;

  const ctx = (overrides: Partial<DayExportContext> = {}): DayExportContext => ({
    pool: db.pool,
    keyring,
    settings,
    transport: createSftpTransport({ ...sftp.settings, remoteDir: sftp.remoteDir }),
    ...overrides,
  });
  const received = async () => (await readdir(sftp.localDir)).sort();
  const attempts = async () =>
    (await readLedger(db.pool, { day: DAY })).reverse().map((r) => `v${r.version} ${r.attempt} ${r.outcome}`);

  beforeAll(async () => {
    db = await createTestDatabase('export_deliver');
    sftp = await createTestSftpDir('export-day');
    outDir = await mkdtemp(join(tmpdir(), 'export-day-'));
    settings = {
      operator: 'ESHOT',
      gzip: false,
      outDir,
      retry: { attempts: 3, initialDelayMs: 200, maxDelayMs: 400 },
      tapsTopic: 'validator.taps.v1',
    };
    const registry = { db: db.db, keyring, actor: { id: 'test', channel: 'WEB' as const } };
    await matchCard({
      ctx: registry,
      input: {
        cardNo: CARD_A,
        cardKind: 'PERSONAL',
        tcKimlikNo: '10000000146',
        hesCode: 'ABCD1234X9',
        at: '2020-11-01T00:00:00Z',
      },
    });
    await matchCard({
      ctx: registry,
      input: {
        cardNo: CARD_B,
        cardKind: 'ANONYMOUS',
        tcKimlikNo: '17291716060',
        hesCode: 'ZZZZ9999Q1',
        at: '2020-11-20T10:00:00+03:00',
      },
    });
    await db.pool.query(`select ensure_boardings_partition('${DAY}')`);
    // 1,500 taps of card A (a file of ~190 kB, big enough to cut mid-upload) and one of card B
    // at 09:30, before its match: outside the file until a back-dated correction.
    await db.pool.query(
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                              result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
       select '${DAY}'::date, 'BUS-202-7', s, '${CARD_A}', timestamptz '2020-11-20T06:00:00+03:00' + s * interval '7 seconds',
              'BUS', '202', '35-ESH-3041', 'S' || s, 'ACCEPTED', null::text, null::bigint, 0, s, now()
       from generate_series(1, 1500) s
       union all
       select '${DAY}', 'TRAM-1', 1, '${CARD_B}', '2020-11-20T09:30:00+03:00', 'TRAM', 'T1', null, null,
              'REJECTED', 'HES_RISKY', null, 0, 2000, now()`,
    );
  });

  afterAll(async () => {
    await sftp.remove();
    await db.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('delivers v1 with its manifest, then an unchanged rebuild delivers nothing and says so', async () => {
    const first = await deliverDayExport(ctx(), { day: DAY, deliver: true, trigger: 'test' });
    expect(first).toMatchObject({ outcome: 'DELIVERED', version: 1, supersedes: null, attempts: 1 });
    expect(await received()).toEqual([
      'BINIS_ESHOT_20201120_v1.csv',
      'BINIS_ESHOT_20201120_v1.manifest.json',
    ]);
    const delivered = await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v1.csv'));
    expect(delivered.equals(await readFile(first.filePath))).toBe(true);
    const manifest = JSON.parse(
      await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v1.manifest.json'), 'utf8'),
    );
    expect(manifest).toMatchObject({
      serviceDay: DAY,
      version: 1,
      file: 'BINIS_ESHOT_20201120_v1.csv',
      bytes: delivered.length,
      rows: 1500,
      supersedes: null,
      stats: { tapsStored: 1501, accepted: 1500, rejected: 1, matched: 1500, unmatched: 1 },
    });

    const again = await deliverDayExport(ctx(), { day: DAY, deliver: true, trigger: 'test' });
    expect(again).toMatchObject({ outcome: 'UNCHANGED', version: 1, attempts: 0 });
    expect(await received()).toEqual([
      'BINIS_ESHOT_20201120_v1.csv',
      'BINIS_ESHOT_20201120_v1.manifest.json',
    ]);
    expect(await attempts()).toEqual(['v1 1 DELIVERED', 'v1 0 UNCHANGED']);
  });

  it('a back-dated registry correction makes v2, superseding v1', async () => {
    const { rows } = await db.pool.query<{ id: string }>(
      `select m.id from matches m join cards c on c.id = m.card_id where c.card_no = '${CARD_B}'`,
    );
    await correctMatch({
      ctx: { db: db.db, keyring, actor: { id: 'admin', channel: 'ADMIN' as const } },
      input: {
        matchId: Number(rows[0]?.id),
        reason: 'matched at the kiosk at 09:00',
        replacement: { validFrom: new Date('2020-11-20T09:00:00+03:00') },
      },
    });
    const v2 = await deliverDayExport(ctx(), { day: DAY, deliver: true, trigger: 'test' });
    expect(v2).toMatchObject({ outcome: 'DELIVERED', version: 2, supersedes: 1 });
    const text = await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.csv'), 'utf8');
    expect(text).toContain(
      '17291716060,ZZZZ9999Q1,0400000000000B02,HAMILINE,2020-11-20T09:30:00+03:00,TRAMVAY,T1,,,TRAM-1,1,RED,HES_RISKY\r\n',
    );
    const manifest = JSON.parse(
      await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.manifest.json'), 'utf8'),
    );
    expect(manifest).toMatchObject({ version: 2, supersedes: 1, rows: 1501 });
  });

  it('--force sends the last version again: the same file bytes and the very same manifest bytes', async () => {
    const manifestPath = join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.manifest.json');
    const before = await readFile(manifestPath);
    const fileBefore = await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.csv'));
    await rm(join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.csv')); // the receiver lost it
    const forced = await deliverDayExport(ctx(), { day: DAY, deliver: true, force: true, trigger: 'test' });
    expect(forced).toMatchObject({ outcome: 'REDELIVERED', version: 2, attempts: 1 });
    expect((await readFile(join(sftp.localDir, 'BINIS_ESHOT_20201120_v2.csv'))).equals(fileBefore)).toBe(
      true,
    );
    expect((await readFile(manifestPath)).equals(before)).toBe(true);
  });

  it('an SFTP server that is down is retried with backoff until it is back, every try in the ledger', async () => {
    await db.pool.query(
      `update boardings set line_code = '203' where validator_id = 'BUS-202-7' and seq = 1`,
    );
    const proxy = new TcpProxy(sftp.settings.host, sftp.settings.port);
    await proxy.up();
    await proxy.down(); // the port now refuses
    const transport = createSftpTransport({ ...sftp.settings, port: proxy.port, remoteDir: sftp.remoteDir });
    const running = deliverDayExport(
      ctx({
        transport,
        settings: { ...settings, retry: { attempts: 5, initialDelayMs: 400, maxDelayMs: 800 } },
      }),
      {
        day: DAY,
        deliver: true,
        trigger: 'test',
      },
    );
    // Back once the first try has failed.
    for (let i = 0; i < 100 && !(await attempts()).includes('v3 1 FAILED'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await proxy.up();
    const v3 = await running;
    await proxy.down();
    expect(v3.outcome).toBe('DELIVERED');
    expect(v3.version).toBe(3);
    expect(v3.attempts).toBeGreaterThan(1);
    const ledger = await readLedger(db.pool, { day: DAY });
    const tries = ledger.filter((r) => r.version === 3).reverse();
    expect(tries.at(-1)?.outcome).toBe('DELIVERED');
    expect(tries.slice(0, -1).every((r) => r.outcome === 'FAILED' && r.errorCode === 'ECONNREFUSED')).toBe(
      true,
    );
    expect(await received()).toContain('BINIS_ESHOT_20201120_v3.csv');
  });

  it('a connection cut mid-upload leaves no partial file under the final name', async () => {
    await db.pool.query(
      `update boardings set line_code = '204' where validator_id = 'BUS-202-7' and seq = 1`,
    );
    const proxy = new TcpProxy(sftp.settings.host, sftp.settings.port);
    await proxy.up();
    proxy.cutAfter(60_000); // the handshake is a few kB: this cuts inside the ~190 kB file
    const transport = createSftpTransport({ ...sftp.settings, port: proxy.port, remoteDir: sftp.remoteDir });
    const once = { ...settings, retry: { attempts: 1, initialDelayMs: 0, maxDelayMs: 0 } };
    await expect(
      deliverDayExport(ctx({ transport, settings: once }), { day: DAY, deliver: true, trigger: 'test' }),
    ).rejects.toBeInstanceOf(DeliveryFailedError);
    const afterCut = await received();
    expect(afterCut).not.toContain('BINIS_ESHOT_20201120_v4.csv');
    expect(afterCut).not.toContain('BINIS_ESHOT_20201120_v4.manifest.json');
    // The cut came inside the upload: what arrived sits under the temporary name only.
    expect(
      afterCut.filter((n) => /^\.BINIS_ESHOT_20201120_v4\.csv\.[0-9a-f]{8}\.part$/.test(n)),
    ).toHaveLength(1);
    expect((await readLedger(db.pool, { day: DAY, limit: 1 }))[0]).toMatchObject({
      version: 4,
      outcome: 'FAILED',
    });

    // The next run, on a sound connection, delivers v4 and sweeps the leftover partial file.
    proxy.cutAfter(undefined);
    const v4 = await deliverDayExport(ctx({ transport }), { day: DAY, deliver: true, trigger: 'test' });
    await proxy.down();
    expect(v4).toMatchObject({ outcome: 'DELIVERED', version: 4, supersedes: 3 });
    const names = await received();
    expect(names).toContain('BINIS_ESHOT_20201120_v4.csv');
    expect(names.filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('refuses a server with another host key at once, sends nothing, and the ledger says why', async () => {
    await db.pool.query(
      `update boardings set line_code = '205' where validator_id = 'BUS-202-7' and seq = 1`,
    );
    const before = await received();
    const impostor = createSftpTransport({
      ...sftp.settings,
      hostKeySha256: `SHA256:${'A'.repeat(43)}`,
      remoteDir: sftp.remoteDir,
    });
    const run = deliverDayExport(ctx({ transport: impostor }), { day: DAY, deliver: true, trigger: 'test' });
    await expect(run).rejects.toThrow(/host key mismatch/);
    await expect(run).rejects.toMatchObject({
      code: 'SFTP_HOST_KEY_MISMATCH',
      attempts: 1,
      retryable: false,
    });
    expect(await received()).toEqual(before);
    const [last] = await readLedger(db.pool, { day: DAY, limit: 1 });
    expect(last).toMatchObject({
      version: 5,
      attempt: 1,
      outcome: 'FAILED',
      errorCode: 'SFTP_HOST_KEY_MISMATCH',
    });
    expect(last?.error).toMatch(/pinned SHA256:A{43}/);
  });

  it('builds .csv.gz when asked: the manifest names the .gz bytes, and the same CSV gives the same .gz', async () => {
    const gz = { ...settings, gzip: true, outDir: join(outDir, 'gz') };
    const built = await deliverDayExport(ctx({ settings: gz }), {
      day: DAY,
      deliver: false,
      trigger: 'test',
    });
    expect(built.outcome).toBe('BUILT');
    expect(built.manifest.file).toBe('BINIS_ESHOT_20201120_v5.csv.gz');
    const first = await readFile(built.filePath);
    expect(first.subarray(0, 2).toString('hex')).toBe('1f8b');
    expect(built.manifest.bytes).toBe(first.length);
    const again = await deliverDayExport(ctx({ settings: gz }), {
      day: DAY,
      deliver: false,
      trigger: 'test',
    });
    expect((await readFile(again.filePath)).equals(first)).toBe(true);
    expect(existsSync(join(gz.outDir, 'BINIS_ESHOT_20201120_v5.manifest.json'))).toBe(true);
  });
});
