import { ByteOut, COMMA, CR, LF } from './byte-out';
import type { BatchCells } from './clear-cells';
import { istanbulSeconds, KIND_CODES, MODE_CODES, RESULT_CODES } from './day-file-format';
import type { PackedBlobs } from './decrypt-batch';
import type { SlabPool } from './slab-pool';

/**
 * The hot loop of the day file: tuples of the day query in PostgreSQL's binary COPY format in,
 * the file's CSV bytes out. Byte for byte what `toDayFileRecord` + csv-stringify
 * (`DAY_FILE_CSV_OPTIONS`) write (day-file-rows.test.ts checks it against them), without a
 * string, an array or an object per row: at 1.1 M rows a day those kept the collector busy and
 * the main thread at ~15 µs a row. TC and HES come in already opened, as bytes (clear-cells.ts).
 *
 * Columns, in `DAY_QUERY` order: match id (int8), tc_enc, hes_enc (bytea), card_no, kind (text),
 * tapped_ms (int8), mode, line_code, vehicle_id, stop_code, validator_id (text), seq (int8),
 * result, reject_reason (text).
 */
export const DAY_QUERY_COLUMNS = 14;

const MODE = codes(MODE_CODES);
const KIND = codes(KIND_CODES);
const RESULT = codes(RESULT_CODES);

/** Stored value → day-file code, both as bytes: matched by comparing bytes, no string per row. */
type Codes = { from: Buffer; to: Buffer }[];

function codes(map: Record<string, string>): Codes {
  return Object.entries(map).map(([from, to]) => ({
    from: Buffer.from(from, 'latin1'),
    to: Buffer.from(to, 'latin1'),
  }));
}

/** A row's value that has no day-file code: the build fails naming it (not personal data). */
export type UnknownCode = { what: string; value: string };

export type FormattedRows = { csv: Buffer; rows: number } | { unknownCode: UnknownCode };

/** A signed 64-bit integer (big-endian) at `at`, as a number: ids, seq and epoch ms are far below 2^53. */
function int8(src: Buffer, at = 0): number {
  return src.readInt32BE(at) * 4_294_967_296 + src.readUInt32BE(at + 4);
}

function code(batch: DayRows, row: number, map: Codes, f: number, what: string): Buffer | UnknownCode {
  const { src } = batch;
  const start = batch.start(row, f);
  const end = batch.end(row, f);
  for (const { from, to } of map) {
    if (from.length !== end - start) continue;
    let i = 0;
    while (i < from.length && from[i] === src[start + i]) i++;
    if (i === from.length) return to;
  }
  return { what, value: src.toString('utf8', start, end) };
}

/**
 * One batch of whole tuples (copy-tuples.ts), read once: where each row's fields start and end.
 * NULL is an empty field, as `toDayFileRecord` writes a null.
 */
export class DayRows {
  readonly src: Buffer;
  readonly rows: number;
  /** Per row and field: start, end. */
  readonly #bounds: Int32Array;

  /**
   * `int32s`: where the bounds go (a pool's slab, given back with `giveBack` once the rows are
   * formatted); `boundsFor` says how many a batch of that many bytes may need.
   */
  constructor(src: Buffer, int32s: (n: number) => Int32Array = (n) => new Int32Array(n)) {
    this.src = src;
    const bounds = int32s(DayRows.boundsFor(src.length));
    let n = 0;
    let at = 0;
    while (at < src.length) {
      const fields = src.readInt16BE(at);
      at += 2;
      if (fields !== DAY_QUERY_COLUMNS) throw new Error(`day query tuple has ${fields} fields`);
      for (let f = 0; f < DAY_QUERY_COLUMNS; f++) {
        const length = src.readInt32BE(at);
        at += 4;
        bounds[n++] = at;
        bounds[n++] = length < 0 ? at : at + length;
        if (length > 0) at += length;
      }
    }
    this.#bounds = bounds;
    this.rows = n / (2 * DAY_QUERY_COLUMNS);
  }

  /** Bounds a batch of `bytes` may need: a tuple is at least 2 + 14 × 4 bytes. */
  static boundsFor(bytes: number): number {
    return Math.ceil(bytes / (2 + 4 * DAY_QUERY_COLUMNS)) * 2 * DAY_QUERY_COLUMNS;
  }

  /** Give the batch's bytes and bounds back to the pools they came from: nothing reads them after. */
  giveBack(pools: { tuples: SlabPool; bounds: SlabPool }): void {
    pools.tuples.give(this.src);
    pools.bounds.give(this.#bounds);
  }

  start(row: number, field: number): number {
    return this.#bounds[(row * DAY_QUERY_COLUMNS + field) * 2] ?? 0;
  }

  end(row: number, field: number): number {
    return this.#bounds[(row * DAY_QUERY_COLUMNS + field) * 2 + 1] ?? 0;
  }

  matchId(row: number): number {
    return int8(this.src, this.start(row, 0));
  }

  /** The sealed TC and HES of these rows, packed for a worker (decrypt-batch.ts). */
  sealed(rows: number[]): PackedBlobs {
    const column = (field: number) => ({
      bytes: Buffer.concat(rows.map((r) => this.src.subarray(this.start(r, field), this.end(r, field)))),
      lengths: Int32Array.from(rows, (r) => this.end(r, field) - this.start(r, field)),
    });
    const tc = column(1);
    const hes = column(2);
    return { tc: tc.bytes, tcLengths: tc.lengths, hes: hes.bytes, hesLengths: hes.lengths };
  }
}

/**
 * Room for the CSV of a batch of `tupleBytes`: a row of the file is about half its tuple (the
 * sealed values are twice the clear ones, ids and lengths are not written); three quarters leaves
 * room, and the buffer grows if a batch of long text ever needs more.
 */
export function csvBytesFor(tupleBytes: number): number {
  return (tupleBytes >> 1) + (tupleBytes >> 2) + 4096;
}

/**
 * Format the rows of a batch; `cells` holds each row's clear TC and HES cells (`BatchCells`,
 * filled). The CSV is written into a slab of `pool` when given (the caller gives it back once
 * written).
 */
export function formatDayRows(batch: DayRows, cells: BatchCells, pool?: SlabPool): FormattedRows {
  const { src } = batch;
  const out = new ByteOut(csvBytesFor(src.length), pool);
  const clear = cells.bytes.buf;
  let lastSecond = Number.NaN;
  let secondBytes = Buffer.alloc(0);
  const cell = (r: number, f: number) => out.cell(src, batch.start(r, f), batch.end(r, f));
  for (let r = 0; r < batch.rows; r++) {
    const clearStart = cells.at[2 * r] ?? -1;
    const clearEnd = cells.at[2 * r + 1] ?? -1;
    if (clearStart < 0 || clearEnd < clearStart) throw new Error('a row of the day file has no TC and HES');
    const kind = code(batch, r, KIND, 4, 'card kind');
    const mode = code(batch, r, MODE, 6, 'mode');
    const result = code(batch, r, RESULT, 12, 'result');
    if (!Buffer.isBuffer(kind)) return { unknownCode: kind };
    if (!Buffer.isBuffer(mode)) return { unknownCode: mode };
    if (!Buffer.isBuffer(result)) return { unknownCode: result };
    // Rows come in time order: most share their second with the row before.
    const second = Math.floor(int8(src, batch.start(r, 5)) / 1000);
    if (second !== lastSecond) {
      lastSecond = second;
      secondBytes = Buffer.from(istanbulSeconds(second * 1000), 'latin1');
    }
    out.bytes(clear, clearStart, clearEnd);
    cell(r, 3);
    out.byte(COMMA);
    out.bytes(kind);
    out.byte(COMMA);
    out.bytes(secondBytes);
    out.byte(COMMA);
    out.bytes(mode);
    out.byte(COMMA);
    cell(r, 7);
    out.byte(COMMA);
    cell(r, 8);
    out.byte(COMMA);
    cell(r, 9);
    out.byte(COMMA);
    cell(r, 10);
    out.byte(COMMA);
    out.ascii(String(int8(src, batch.start(r, 11))));
    out.byte(COMMA);
    out.bytes(result);
    out.byte(COMMA);
    cell(r, 13);
    out.byte(CR);
    out.byte(LF);
  }
  return { csv: out.buf.subarray(0, out.at), rows: batch.rows };
}
