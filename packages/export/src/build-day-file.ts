import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptField } from '@boarding/encryption/field-cipher';
import type { Keyring } from '@boarding/encryption/keyring';
import { stringify } from 'csv-stringify';
import type { Pool } from 'pg';
import Cursor from 'pg-cursor';
import { DAY_FILE_CSV_OPTIONS, toDayFileRecord } from './day-file-format';

type DbRow = {
  tc_enc: Buffer;
  hes_enc: Buffer;
  card_no: string;
  kind: string;
  tapped_ms: string;
  mode: string;
  line_code: string;
  vehicle_id: string | null;
  stop_code: string | null;
  validator_id: string;
  seq: string;
  result: string;
  reject_reason: string | null;
};

/**
 * Every stored tap of day D whose card had a match at tapped_at, joined against the registry AS
 * IT STANDS NOW (a back-dated correction changes the file), in SPEC §4 order: instant (ms),
 * validator id in byte order, seq.
 */
const DAY_QUERY = `
  select p.tc_enc, m.hes_enc, b.card_no, c.kind,
         (extract(epoch from b.tapped_at) * 1000)::bigint::text as tapped_ms,
         b.mode, b.line_code, b.vehicle_id, b.stop_code, b.validator_id, b.seq, b.result, b.reject_reason
  from boardings b
  join cards c on c.card_no = b.card_no
  join lateral (
    select mm.person_id, mm.hes_enc from matches mm
    where mm.card_id = c.id and mm.retracted_at is null and mm.valid_from <= b.tapped_at
      and (mm.valid_to is null or mm.valid_to > b.tapped_at)
    order by mm.valid_from desc limit 1) m on true
  join persons p on p.id = m.person_id
  where b.service_day = $1::date
  order by b.tapped_at, b.validator_id collate "C", b.seq`;

export type BuiltDayFile = { path: string; rows: number; bytes: number; sha256: string };

/**
 * Stream day D from PostgreSQL (a cursor, 5,000 rows at a time: the day is never held in memory)
 * through csv-stringify to `path`. TC and HES are decrypted here and nowhere else.
 */
export async function buildDayFile(options: {
  pool: Pool;
  keyring: Keyring;
  day: string;
  path: string;
}): Promise<BuiltDayFile> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.day)) throw new Error('day must be YYYY-MM-DD');
  const client = await options.pool.connect();
  const hash = createHash('sha256');
  let bytes = 0;
  let rows = 0;
  try {
    // One snapshot for the whole file: rows and registry from the same instant.
    await client.query('begin isolation level repeatable read read only');
    const cursor = client.query(new Cursor<DbRow>(DAY_QUERY, [options.day]));
    async function* records() {
      for (;;) {
        const batch = await cursor.read(5000);
        if (batch.length === 0) break;
        for (const r of batch) {
          rows++;
          yield toDayFileRecord({
            tcKimlikNo: decryptField(options.keyring, r.tc_enc, 'tc'),
            hesCode: decryptField(options.keyring, r.hes_enc, 'hes'),
            cardNo: r.card_no,
            cardKind: r.kind,
            tappedAtMs: Number(r.tapped_ms),
            mode: r.mode,
            lineCode: r.line_code,
            vehicleId: r.vehicle_id,
            stopCode: r.stop_code,
            validatorId: r.validator_id,
            seq: Number(r.seq),
            result: r.result,
            rejectReason: r.reject_reason,
          });
        }
      }
      await cursor.close();
    }
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.from(records()),
      stringify(DAY_FILE_CSV_OPTIONS),
      count,
      // TC and HES in clear: readable by the owner only.
      createWriteStream(options.path, { mode: 0o600 }),
    );
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return { path: options.path, rows, bytes, sha256: hash.digest('hex') };
}
