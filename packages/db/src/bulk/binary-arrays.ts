/**
 * One-dimensional PostgreSQL arrays in the binary wire format (what `array_recv` reads), for
 * statements that take a whole batch as array parameters. node-postgres sends a `Buffer`
 * parameter in binary format, so PostgreSQL reads these without parsing text: no quoting, no
 * escaping, no number or date parsing, a length before every element. Build each column in one
 * pass with `BinaryArrayWriter`, then pass `finish()` as the parameter (cast in the SQL to the
 * matching array type: `$1::text[]`, `$2::int8[]`, …).
 *
 * Format: ndim (1, or 0 when empty), has-nulls flag, element type OID, then for the one
 * dimension its length and lower bound (1), then each element as int32 byte length (−1: NULL)
 * followed by its bytes, all big-endian.
 */

import { utcMidnightOf } from '@boarding/contracts/time';

/** Element types by OID (pg_type): PostgreSQL refuses an array whose element type is not the one cast to. */
const OID = { bool: 16, int4: 23, int8: 20, text: 25, date: 1082 } as const;
export type ElementType = keyof typeof OID;

const HEADER = 20;
const TWO_32 = 4294967296;
/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch. */
const PG_EPOCH_DAYS = 10957;
const DAY_MS = 86_400_000;

export class BinaryArrayWriter {
  private buf: Buffer;
  private pos = HEADER;
  private count = 0;
  private nulls = false;
  private lastDay: string | null = null;
  private lastDayNumber = 0;

  /** `capacity`: bytes expected for the elements (grown when short). */
  constructor(
    private readonly type: ElementType,
    capacity = 1024,
  ) {
    this.buf = Buffer.allocUnsafe(HEADER + capacity);
  }

  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * Before each element: a TypeError if the array holds another type (`integer`: int4 or int8);
   * a null value is written as NULL here, and true says the element is done.
   */
  private wroteNull(kind: ElementType | 'integer', value: unknown): value is null {
    const fits = kind === 'integer' ? this.type === 'int4' || this.type === 'int8' : this.type === kind;
    if (!fits) throw new TypeError(`${kind} element in a ${this.type} array`);
    if (value !== null) return false;
    this.room(4);
    this.buf.writeInt32BE(-1, this.pos);
    this.pos += 4;
    this.nulls = true;
    this.count++;
    return true;
  }

  /** A text element, as UTF-8 (the database's encoding). */
  text(value: string | null): void {
    if (this.wroteNull('text', value)) return;
    // At most 3 bytes per UTF-16 unit; the length is written once the bytes are.
    this.room(4 + value.length * 3);
    const written = this.buf.write(value, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(written, this.pos);
    this.pos += 4 + written;
    this.count++;
  }

  /** An integer element (int4 or int8): a safe integer, else a RangeError (the value's fault). */
  int(value: number | null): void {
    if (this.wroteNull('integer', value)) return;
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${value} is not an integer PostgreSQL can store exactly`);
    if (this.type === 'int4') {
      if (value < -2147483648 || value > 2147483647)
        throw new RangeError(`${value} is out of range for int4`);
      this.room(8);
      this.buf.writeInt32BE(4, this.pos);
      this.buf.writeInt32BE(value, this.pos + 4);
      this.pos += 8;
    } else {
      this.room(12);
      const hi = Math.floor(value / TWO_32);
      this.buf.writeInt32BE(8, this.pos);
      this.buf.writeInt32BE(hi, this.pos + 4);
      this.buf.writeUInt32BE(value - hi * TWO_32, this.pos + 8);
      this.pos += 12;
    }
    this.count++;
  }

  /** A boolean element. */
  bool(value: boolean | null): void {
    if (this.wroteNull('bool', value)) return;
    this.room(5);
    this.buf.writeInt32BE(1, this.pos);
    this.buf[this.pos + 4] = value ? 1 : 0;
    this.pos += 5;
    this.count++;
  }

  /** A calendar day written `YYYY-MM-DD`, or a RangeError. (A batch holds few days: the last one is remembered.) */
  date(value: string | null): void {
    if (this.wroteNull('date', value)) return;
    if (value !== this.lastDay) {
      // A RangeError on anything but a real calendar day written YYYY-MM-DD.
      this.lastDayNumber = utcMidnightOf(value) / DAY_MS - PG_EPOCH_DAYS;
      this.lastDay = value;
    }
    this.room(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(this.lastDayNumber, this.pos + 4);
    this.pos += 8;
    this.count++;
  }

  /** The array's bytes (the writer is spent). */
  finish(): Buffer {
    const b = this.buf;
    b.writeInt32BE(this.count === 0 ? 0 : 1, 0);
    b.writeInt32BE(this.nulls ? 1 : 0, 4);
    b.writeInt32BE(OID[this.type], 8);
    if (this.count === 0) return b.subarray(0, 12);
    b.writeInt32BE(this.count, 12);
    b.writeInt32BE(1, 16);
    return b.subarray(0, this.pos);
  }
}
