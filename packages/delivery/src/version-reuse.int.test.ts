import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '@boarding/db/client';
import type { ExportSettings } from '@boarding/export/settings';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { TcpProxy } from '@boarding/testing/tcp-proxy';
import type { Pool } from 'pg';
import { deliverDayExport } from './deliver-day-export';
import { deliveredVersions, readLedger } from './ledger';
import { InMemoryTransport } from './memory-transport';
import type { DeliveryFile } from './transport';

const DAY = '2020-11-20';
const CARD = '0400000000000A01';

/**
 * SPEC §5: a version number is never reused for other bytes. The incident: the upload of v1
 * went through, the ledger write after it failed (database away), and the next run, with late
 * taps, computed "last delivered + 1" = v1 again and replaced the Ministry's v1 with other bytes.
 */
describe('deliverDayExport: a version whose upload may have reached the receiver is used for good', () => {
  let db: TestDatabase;
  let outDir: string;
  let proxy: TcpProxy;
  let proxied: Pool;
  const keyring = createKeyringForTests();
  let settings: ExportSettings;

  const insertTaps = (from: number, to: number) =>
    db.pool.query(
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                              result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
       select '${DAY}'::date, 'BUS-202-7', s, '${CARD}', timestamptz '2020-11-20T06:00:00+03:00' + s * interval '7 seconds',
              'BUS', '202', '35-ESH-3041', 'S' || s, 'ACCEPTED', null::text, null::bigint, 0, s, now()
       from generate_series($1::int, $2::int) s`,
      [from, to],
    );

  beforeAll(async () => {
    db = await createTestDatabase('version_reuse');
    outDir = await mkdtemp(join(tmpdir(), 'version-reuse-'));
    settings = {
      operator: 'ESHOT',
      gzip: false,
      outDir,
      retry: { attempts: 2, initialDelayMs: 50, maxDelayMs: 100 },
      tapsTopic: 'validator.taps.v1',
    };
    await matchCard({
      ctx: { db: db.db, keyring, actor: { id: 'test', channel: 'WEB' as const } },
      input: {
        cardNo: CARD,
        cardKind: 'PERSONAL',
        tcKimlikNo: '10000000146',
        hesCode: 'ABCD1234X9',
        at: '2020-11-01T00:00:00Z',
      },
    });
    await db.pool.query(`select ensure_boardings_partition('${DAY}')`);
    await insertTaps(1, 100);
    const url = new URL(db.url);
    proxy = await new TcpProxy(url.hostname, Number(url.port)).up();
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    proxied = createDb({ url: url.toString(), pool: { max: 4 } }).pool;
    // A pool whose connections the proxy drops: errors surface on the clients, not the process.
    proxied.on('error', () => undefined);
  });

  afterAll(async () => {
    await proxied.end().catch(() => undefined);
    await proxy.down();
    await db.drop();
    await rm(outDir, { recursive: true, force: true });
  });

  it('an upload whose ledger write was lost keeps its number: the next content is v2, v1 keeps its bytes', async () => {
    const receiver = new InMemoryTransport();
    let cutDatabaseAfterUpload = true;
    const transport = {
      target: receiver.target,
      async deliver(files: DeliveryFile[]) {
        await receiver.deliver(files);
        // The upload went through; the database goes away before the ledger hears of it.
        if (cutDatabaseAfterUpload) await proxy.down();
      },
    };
    const failed = deliverDayExport(
      { pool: proxied, keyring, settings, transport },
      { day: DAY, deliver: true, trigger: 'test' },
    );
    // Said as what it is (the ledger, not the delivery), with the database's code, never its SQL.
    await expect(failed).rejects.toMatchObject({ code: 'LEDGER_UNAVAILABLE', retryable: true });
    await expect(failed).rejects.toThrow(
      /reached the receiver but could not be recorded|the try was not started/,
    );
    await expect(failed).rejects.not.toThrow(/insert into|update "|params/i);
    const firstV1 = receiver.files.get('BINIS_ESHOT_20201120_v1.csv');
    expect(firstV1?.toString('utf8')).toContain(',BUS-202-7,100,KABUL,');

    // The database is back; late taps arrived meanwhile.
    cutDatabaseAfterUpload = false;
    await proxy.up();
    await insertTaps(101, 110);
    const next = await deliverDayExport(
      { pool: db.pool, keyring, settings, transport },
      { day: DAY, deliver: true, trigger: 'test' },
    );
    expect(next).toMatchObject({ outcome: 'DELIVERED', version: 2, supersedes: 1 });
    // v1 at the receiver still holds the bytes first sent under that name.
    expect(receiver.files.get('BINIS_ESHOT_20201120_v1.csv')?.equals(firstV1 ?? Buffer.alloc(0))).toBe(true);
    expect(receiver.files.get('BINIS_ESHOT_20201120_v2.csv')?.toString('utf8')).toContain(
      ',BUS-202-7,110,KABUL,',
    );

    const versions = await deliveredVersions(db.pool, DAY);
    expect(versions.map((v) => `v${v.version} ${v.state} ${v.rows}`)).toEqual([
      'v1 IN_FLIGHT 100',
      'v2 DELIVERED 110',
    ]);
    // The try whose end was lost is still in the ledger, as IN_FLIGHT with no end.
    const ledger = (await readLedger(db.pool, { day: DAY })).reverse();
    expect(ledger[0]).toMatchObject({ version: 1, attempt: 1, outcome: 'IN_FLIGHT', finishedAt: null });
    expect(ledger.at(-1)).toMatchObject({ version: 2, outcome: 'DELIVERED' });
  });

  it('an unconfirmed version whose content has not changed is sent again under its own number and confirmed', async () => {
    const receiver = new InMemoryTransport();
    let cut = true;
    const transport = {
      target: receiver.target,
      async deliver(files: DeliveryFile[]) {
        await receiver.deliver(files);
        if (cut) await proxy.down();
      },
    };
    await insertTaps(111, 120);
    await expect(
      deliverDayExport(
        { pool: proxied, keyring, settings, transport },
        { day: DAY, deliver: true, trigger: 'test' },
      ),
    ).rejects.toThrow();
    const sent = receiver.files.get('BINIS_ESHOT_20201120_v3.csv');
    const manifest = receiver.files.get('BINIS_ESHOT_20201120_v3.manifest.json');
    expect(sent).toBeDefined();
    cut = false;
    await proxy.up();
    receiver.files.clear();
    const again = await deliverDayExport(
      { pool: db.pool, keyring, settings, transport },
      { day: DAY, deliver: true, trigger: 'test' },
    );
    expect(again).toMatchObject({ outcome: 'DELIVERED', version: 3, supersedes: 2 });
    expect(receiver.files.get('BINIS_ESHOT_20201120_v3.csv')?.equals(sent ?? Buffer.alloc(0))).toBe(true);
    expect(
      receiver.files.get('BINIS_ESHOT_20201120_v3.manifest.json')?.equals(manifest ?? Buffer.alloc(0)),
    ).toBe(true);
    const versions = await deliveredVersions(db.pool, DAY);
    expect(versions.map((v) => `v${v.version} ${v.state}`)).toEqual([
      'v1 IN_FLIGHT',
      'v2 DELIVERED',
      'v3 DELIVERED',
    ]);
    // Unchanged since: nothing sent.
    const unchanged = await deliverDayExport(
      { pool: db.pool, keyring, settings, transport },
      { day: DAY, deliver: true, trigger: 'test' },
    );
    expect(unchanged).toMatchObject({ outcome: 'UNCHANGED', version: 3 });
  });
});
