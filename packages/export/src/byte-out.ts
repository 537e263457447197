import type { SlabPool } from './slab-pool';

/** The bytes CSV gives a meaning to: each one ASCII byte, never inside a UTF-8 sequence. */
export const COMMA = 0x2c;
const QUOTE = 0x22;
export const CR = 0x0d;
export const LF = 0x0a;

/** Whether csv-stringify would quote these bytes: a comma, a quote, CR or LF. */
function needsQuotes(bytes: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === COMMA || b === QUOTE || b === CR || b === LF) return true;
  }
  return false;
}

/**
 * Bytes written into a buffer that grows by doubling: a pool's slab when given one (the caller
 * gives `buf` back once nothing reads it; a slab outgrown is given back here).
 */
export class ByteOut {
  buf: Buffer;
  at = 0;
  readonly #pool: SlabPool | undefined;

  constructor(size: number, pool?: SlabPool) {
    this.#pool = pool;
    this.buf = pool ? pool.buffer(size) : Buffer.allocUnsafe(size);
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.#pool?.give(this.buf);
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
