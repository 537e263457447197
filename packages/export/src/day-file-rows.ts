import { istanbulSeconds, KIND_CODES, MODE_CODES, RESULT_CODES } from './day-file-format';
import type { PackedBlobs } from './decrypt-batch';

/**
 * The hot loop of the day file: tuples of the day query in PostgreSQL's binary COPY format in,
 * the file's CSV bytes out. Byte for byte what `toDayFileRecord` + csv-stringify
 * (`DAY_FILE_CSV_OPTIONS`) write (day-file-rows.test.ts checks it against them), without a
 * string, an array or an object per row: at 1.1 M rows a day those kept the collector busy and
 * the main thread at ~15 µs a row. TC and HES come in already opened (`ClearCells`), by match id.
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

const ASCII = /^[^\u0080-\uffff]*$/;
const COMMA = 0x2c;
const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** A row's value that has no day-file code: the build fails naming it (not personal data). */
export type UnknownCode = { what: string; value: string };

export type FormattedRows = { csv: Buffer; rows: number } | { unknownCode: UnknownCode };

/**
 * Clear TC and HES cells (`tc,hes,` as the row starts) by match id, so a card tapping again
 * within the next ~100 k rows (a transfer, a short trip back) is not decrypted again: 37 % of a
 * simulated day's rows repeat a match, and AES-GCM's per-value setup is the costliest step of a
 * row. Direct-mapped on the id (identity ids: the matches of a day fall in few collisions): no
 * hashing, no allocation per lookup, and a fixed size (~6 MiB) whatever the size of the day. One
 * build, one snapshot: a match id always names the same sealed values.
 */
export class ClearCells {
  static readonly SLOTS = 1 << 17;
  readonly #ids = new Float64Array(ClearCells.SLOTS).fill(-1);
  readonly #cells: (string | undefined)[] = new Array(ClearCells.SLOTS).fill(undefined);

  get(matchId: number): string | undefined {
    const slot = matchId % ClearCells.SLOTS;
    return this.#ids[slot] === matchId ? this.#cells[slot] : undefined;
  }

  set(matchId: number, cells: string): void {
    const slot = matchId % ClearCells.SLOTS;
    this.#ids[slot] = matchId;
    this.#cells[slot] = cells;
  }
}

/** The row's first two cells and their commas, from the clear TC and HES. */
export function clearCellsOf(tc: string, hes: string): string {
  return `${cellOf(tc)},${cellOf(hes)},`;
}

/** Whether csv-stringify would quote these bytes: a comma, a quote, CR or LF (all ASCII, so never inside a UTF-8 sequence). */
function needsQuotes(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === COMMA || b === QUOTE || b === CR || b === LF) return true;
  }
  return false;
}

/** The CSV cell of `text` (RFC 4180, quotes only where needed), as csv-stringify writes a string. */
function cellOf(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Bytes written into a buffer that grows by doubling; reused across the rows of a batch. */
class Out {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.at++] = b;
  }
  bytes(src: Buffer, start = 0, end = src.length): void {
    this.room(end - start);
    // Cells are a few bytes: a loop beats Buffer#copy's per-call cost.
    if (end - start > 64) {
      this.at += src.copy(this.buf, this.at, start, end);
      return;
    }
    const { buf } = this;
    let at = this.at;
    for (let i = start; i < end; i++) buf[at++] = src[i] ?? 0;
    this.at = at;
  }
  ascii(text: string): void {
    this.room(text.length);
    this.at += this.buf.write(text, this.at, 'latin1');
  }
  /** `text` as UTF-8; the ASCII test first, since latin1 is a plain copy and UTF-8 an encoding. */
  text(text: string): void {
    this.room(text.length * 3);
    this.at += this.buf.write(text, this.at, ASCII.test(text) ? 'latin1' : 'utf8');
  }
  /** A text field's bytes as a CSV cell: quoted, inner quotes doubled, only when needed. */
  cell(src: Buffer, start: number, end: number): void {
    if (!needsQuotes(src, start, end)) {
      this.bytes(src, start, end);
      return;
    }
    this.room((end - start) * 2 + 2);
    this.buf[this.at++] = QUOTE;
    for (let i = start; i < end; i++) {
      const b = src[i] ?? 0;
      if (b === QUOTE) this.buf[this.at++] = QUOTE;
      this.buf[this.at++] = b;
    }
    this.buf[this.at++] = QUOTE;
  }
}

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

  constructor(src: Buffer) {
    this.src = src;
    // A tuple is at least 2 + 14 × 4 bytes: enough room for every row the batch can hold.
    const bounds = new Int32Array(
      Math.ceil(src.length / (2 + 4 * DAY_QUERY_COLUMNS)) * 2 * DAY_QUERY_COLUMNS,
    );
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

/** Format the rows of a batch; `clear[r]` holds row r's TC and HES cells (`clearCellsOf`). */
export function formatDayRows(batch: DayRows, clear: (string | undefined)[]): FormattedRows {
  const { src } = batch;
  // A row of the file is about half its tuple (the sealed values are twice the clear ones, ids
  // and lengths are not written): three quarters leaves room, and the buffer grows if a batch of
  // long text ever needs more. Sized to fit, since one is allocated per batch.
  const out = new Out((src.length >> 1) + (src.length >> 2) + 4096);
  let lastSecond = Number.NaN;
  let secondBytes = Buffer.alloc(0);
  const cell = (r: number, f: number) => out.cell(src, batch.start(r, f), batch.end(r, f));
  for (let r = 0; r < batch.rows; r++) {
    const secret = clear[r];
    if (secret === undefined) throw new Error('a row of the day file has no TC and HES');
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
    out.text(secret);
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
