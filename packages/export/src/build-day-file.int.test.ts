import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIELD_CONTEXT } from '@boarding/encryption/context';
import { encryptField } from '@boarding/encryption/field-cipher';
import { correctMatch } from '@boarding/registry/verbs/correct-match';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { Pool, type PoolClient } from 'pg';
import { buildDayFile } from './build-day-file';

const HEADER =
  'tc_kimlik_no,hes_kodu,kart_no,kart_turu,binis_zamani,ulasim_turu,hat_kodu,arac_no,durak_kodu,dogrulayici_no,islem_no,sonuc,red_nedeni\r\n';

describe('buildDayFile', () => {
  let db: TestDatabase;
  let dir: string;
  const keyring = createKeyringForTests();

  beforeAll(async () => {
    db = await createTestDatabase('export_day');
    dir = await mkdtemp(join(tmpdir(), 'day-file-'));
    const ctx = { db: db.db, keyring, actor: { id: 'test', channel: 'WEB' as const } };
    // Card A matched from before the day; card B matched at 10:00 Istanbul; card C never.
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
    await matchCard({
      ctx,
      input: {
        cardNo: '0400000000000B02',
        cardKind: 'ANONYMOUS',
        tcKimlikNo: '17291716060',
        hesCode: 'ZZZZ9999Q1',
        at: '2020-11-20T10:00:00+03:00',
      },
    });
    await db.pool.query("select ensure_boardings_partition('2020-11-20')");
    const tap = (
      v: string,
      seq: number,
      card: string,
      at: string,
      mode = 'BUS',
      result = 'ACCEPTED',
      reason: string | null = null,
    ) =>
      db.pool.query(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                                result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         values ('2020-11-20', $1, $2, $3, $4, $5, '202', '35-ESH-3041', null, $6, $7, null, 0, $2, $4)`,
        [v, seq, card, at, mode, result, reason],
      );
    await tap('BUS-2-1', 5, '0400000000000A01', '2020-11-20T08:00:00.500+03:00');
    await tap('BUS-10-1', 9, '0400000000000A01', '2020-11-20T08:00:00.500+03:00'); // same instant: byte order B-U-S-1 < B-U-S-2
    await tap('BUS-2-1', 6, '0400000000000B02', '2020-11-20T09:59:59.999+03:00'); // before B's match: not in the file
    await tap(
      'BUS-2-1',
      7,
      '0400000000000B02',
      '2020-11-20T10:00:00.000+03:00',
      'METRO',
      'REJECTED',
      'HES_RISKY',
    );
    await tap('BUS-2-1', 8, '0400000000000C03', '2020-11-20T11:00:00.000+03:00'); // never matched
  });

  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes exactly the matched taps of the day, in SPEC §4 order and bytes', async () => {
    const path = join(dir, 'v1.csv');
    const built = await buildDayFile({ pool: db.pool, keyring, day: '2020-11-20', path });
    const text = await readFile(path, 'utf8');
    expect(text).toBe(
      HEADER +
        '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T08:00:00+03:00,OTOBUS,202,35-ESH-3041,,BUS-10-1,9,KABUL,\r\n' +
        '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-20T08:00:00+03:00,OTOBUS,202,35-ESH-3041,,BUS-2-1,5,KABUL,\r\n' +
        '17291716060,ZZZZ9999Q1,0400000000000B02,HAMILINE,2020-11-20T10:00:00+03:00,METRO,202,35-ESH-3041,,BUS-2-1,7,RED,HES_RISKY\r\n',
    );
    expect(built.rows).toBe(3);
    // TC and HES in clear: readable by the owner only.
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(built.bytes).toBe(Buffer.byteLength(text));
    // Deterministic: the same inputs give the same bytes.
    const again = await buildDayFile({
      pool: db.pool,
      keyring,
      day: '2020-11-20',
      path: join(dir, 'again.csv'),
    });
    expect(again.sha256).toBe(built.sha256);
  });

  it('fails with a clear error, not a hang, when the keyring cannot open the values', async () => {
    const build = buildDayFile({
      pool: db.pool,
      keyring: createKeyringForTests(),
      day: '2020-11-20',
      path: join(dir, 'wrong-key.csv'),
    });
    await expect(build).rejects.toThrow(/^decryption failed \(\w+\)$/);
  });

  it('writes a stored value holding a line feed quoted on its own row, every later row keeping its own TC and HES', async () => {
    // No writer stores one (every channel checks the TC and HES formats): written here by hand.
    // The opened values travel back from the workers with their lengths, so the line feed can
    // only be a character of its cell, quoted as csv-stringify quotes it.
    await db.pool.query("select ensure_boardings_partition('2020-11-22')");
    const matchOf = (card: string, index: string, tc: string, hes: string) =>
      db.pool.query(
        `with c as (insert into cards (card_no, kind) values ($1, 'PERSONAL') returning id),
              p as (insert into persons (tc_index, tc_enc) values ($2::bytea, $3) returning id)
         insert into matches (card_id, person_id, hes_enc, hes_index, valid_from, valid_to, channel, actor)
         select c.id, p.id, $4, $2::bytea, '2020-11-01T00:00:00Z', null, 'ADMIN', 'test' from c, p`,
        [
          card,
          index,
          encryptField(keyring, tc, FIELD_CONTEXT.tc),
          encryptField(keyring, hes, FIELD_CONTEXT.hes),
        ],
      );
    await matchOf('0400000000000D04', '\\x0d04', '10000000146', 'ABCD\n1234X9');
    await matchOf('0400000000000E05', '\\x0e05', '17291716060', 'ZZZZ9999Q1');
    for (const [seq, card, at] of [
      [1, '0400000000000D04', '09:00:00'],
      [2, '0400000000000E05', '09:00:01'],
      [3, '0400000000000D04', '09:00:02'],
      [4, '0400000000000E05', '09:00:03'],
    ] as const) {
      await db.pool.query(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                                result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         values ('2020-11-22', 'BUS-8-1', $1, $2, $3, 'BUS', '202', null, '10345', 'ACCEPTED', null, null, 0, $1, $3)`,
        [seq, card, `2020-11-22T${at}+03:00`],
      );
    }
    const built = await buildDayFile({
      pool: db.pool,
      keyring,
      day: '2020-11-22',
      path: join(dir, 'line-feed.csv'),
    });
    expect(built.rows).toBe(4);
    const row = (tcHes: string, card: string, at: string, seq: number) =>
      `${tcHes},${card},KISISEL,2020-11-22T${at}+03:00,OTOBUS,202,,10345,BUS-8-1,${seq},KABUL,\r\n`;
    expect(await readFile(join(dir, 'line-feed.csv'), 'utf8')).toBe(
      HEADER +
        row('10000000146,"ABCD\n1234X9"', '0400000000000D04', '09:00:00', 1) +
        row('17291716060,ZZZZ9999Q1', '0400000000000E05', '09:00:01', 2) +
        row('10000000146,"ABCD\n1234X9"', '0400000000000D04', '09:00:02', 3) +
        row('17291716060,ZZZZ9999Q1', '0400000000000E05', '09:00:03', 4),
    );
  });

  it('fails mid-stream on a large day without hanging, and leaves its connection fit for the next build', async () => {
    // 60,000 taps of card A (~13 MB of COPY: more than the socket holds, so the failure comes
    // while PostgreSQL is still sending).
    await db.pool.query("select ensure_boardings_partition('2020-11-21')");
    await db.pool.query(
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                              result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
       select '2020-11-21', 'BUS-7-1', n, '0400000000000A01', timestamptz '2020-11-21T00:00:00+03:00' + n * interval '1 second',
              'BUS', '202', null, '10345', 'ACCEPTED', null, null, 0, n, timestamptz '2020-11-21T00:00:00+03:00'
       from generate_series(1, 60000) n`,
    );
    const wrongKey = buildDayFile({
      pool: db.pool,
      keyring: createKeyringForTests(),
      day: '2020-11-21',
      path: join(dir, 'large-wrong-key.csv'),
    });
    await expect(wrongKey).rejects.toThrow(/^decryption failed \(\w+\)$/);
    const path = join(dir, 'large.csv');
    const built = await buildDayFile({ pool: db.pool, keyring, day: '2020-11-21', path });
    const lines = (await readFile(path, 'utf8')).split('\r\n');
    expect(built.rows).toBe(60_000);
    expect(lines).toHaveLength(60_002);
    expect(lines[1]).toBe(
      '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-21T00:00:01+03:00,OTOBUS,202,,10345,BUS-7-1,1,KABUL,',
    );
    expect(lines[60_000]).toBe(
      '10000000146,ABCD1234X9,0400000000000A01,KISISEL,2020-11-21T16:40:00+03:00,OTOBUS,202,,10345,BUS-7-1,60000,KABUL,',
    );
  });

  it('reads inSnapshot in the snapshot of the rows, beside them, and with a pool of one after them', async () => {
    await db.pool.query("select ensure_boardings_partition('2020-11-23')");
    const tapOfA = (seqs: string) =>
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                              result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
       select '2020-11-23', 'BUS-9-1', n, '0400000000000A01', timestamptz '2020-11-23T06:00:00+03:00' + n * interval '1 second',
              'BUS', '202', null, '10345', 'ACCEPTED', null, null, 0, n, timestamptz '2020-11-23T06:00:00+03:00'
       from ${seqs}`;
    await db.pool.query(tapOfA('generate_series(1, 3000) as n'));
    const countDay = async (client: Pool | PoolClient) =>
      (
        await client.query<{ n: number }>(
          "select count(*)::int as n from boardings where service_day = '2020-11-23'",
        )
      ).rows[0]?.n;

    // A tap committed while the rows stream is in neither the rows nor what inSnapshot reads,
    // though inSnapshot reads only once that tap is committed.
    let written = 0;
    let committed: Promise<unknown> | undefined;
    const built = await buildDayFile({
      pool: db.pool,
      keyring,
      day: '2020-11-23',
      path: join(dir, 'snapshot.csv'),
      onRows: (rows) => {
        written = rows;
        committed ??= db.pool.query(tapOfA('(values (3001)) as v(n)'));
      },
      inSnapshot: async (client) => {
        const rowsWhenStarted = written;
        while (committed === undefined) await new Promise((r) => setTimeout(r, 5));
        await committed;
        return { rowsWhenStarted, day: await countDay(client) };
      },
    });
    expect(built.rows).toBe(3000);
    expect(built.extra).toEqual({ rowsWhenStarted: 0, day: 3000 });
    expect(await countDay(db.pool)).toBe(3001);

    // A pool of one connection cannot lend a second: inSnapshot then reads after the rows.
    const one = new Pool({ connectionString: db.url, max: 1 });
    try {
      let rowsAtRead = -1;
      const single = await buildDayFile({
        pool: one,
        keyring,
        day: '2020-11-23',
        path: join(dir, 'snapshot-one.csv'),
        onRows: (rows) => {
          written = rows;
        },
        inSnapshot: async (client) => {
          rowsAtRead = written;
          return countDay(client);
        },
      });
      expect(single.rows).toBe(3001);
      expect(single.extra).toBe(3001);
      expect(rowsAtRead).toBe(3001);
    } finally {
      await one.end();
    }
  });

  it('joins the registry as it stands at build time: a back-dated correction changes the file', async () => {
    const ctx = { db: db.db, keyring, actor: { id: 'admin', channel: 'ADMIN' as const } };
    const { rows } = await db.pool.query<{ id: number }>(
      "select m.id from matches m join cards c on c.id = m.card_id where c.card_no = '0400000000000B02'",
    );
    await correctMatch({
      ctx,
      input: {
        matchId: Number(rows[0]?.id),
        reason: 'matched at the kiosk earlier',
        replacement: { validFrom: new Date('2020-11-20T09:00:00+03:00') },
      },
    });
    const built = await buildDayFile({
      pool: db.pool,
      keyring,
      day: '2020-11-20',
      path: join(dir, 'v2.csv'),
    });
    const text = await readFile(join(dir, 'v2.csv'), 'utf8');
    expect(built.rows).toBe(4);
    expect(text).toContain(
      ',0400000000000B02,HAMILINE,2020-11-20T09:59:59+03:00,OTOBUS,202,35-ESH-3041,,BUS-2-1,6,KABUL,\r\n',
    );
  });
});
