/**
 * Cuts a PostgreSQL binary COPY stream (`COPY … TO STDOUT (FORMAT binary)`) into batches of whole
 * tuples, so each batch can go to any worker thread on its own. Only lengths are read here (two
 * to four bytes per field); the fields themselves are the workers' (day-file-rows.ts).
 *
 * Format: an 11-byte signature, a 32-bit flags word and a 32-bit header extension length (+ that
 * many bytes); then tuples, each a 16-bit field count and per field a 32-bit length (-1: NULL)
 * and the bytes; then the trailer, a field count of -1.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Where a batch's bytes go: a buffer of exactly `n` bytes (a pool's slab, or a new one). */
export type BatchBuffer = (n: number) => Buffer;

export class CopyTupleBatcher {
  readonly #batchBytes: number;
  readonly #batchBuffer: BatchBuffer;
  /**
   * Bytes received and not yet emitted, from offset 0 to `#filled`: one buffer reused for the
   * whole stream (grown only for a tuple larger than itself), so a chunk costs a copy, not an
   * allocation; each batch is copied out into a buffer of its own (`#batchBuffer`).
   */
  #staging: Buffer;
  #filled = 0;
  /** Where the first tuple not yet known to be complete starts in `#staging`. */
  #scan = 0;
  #headerRead = false;
  #ended = false;
  tuples = 0;

  /**
   * `batchBytes`: a batch is emitted once its whole tuples reach this size. `batchBuffer`: where
   * each batch is copied (a pool's slab, so that the batches reuse their memory).
   */
  constructor(batchBytes: number, batchBuffer: BatchBuffer = Buffer.allocUnsafe) {
    this.#batchBytes = batchBytes;
    this.#batchBuffer = batchBuffer;
    this.#staging = Buffer.allocUnsafe(Math.max(2 * batchBytes, 64 * 1024));
  }

  /** Add a chunk of the stream; returns the batches it completed (each whole tuples only). */
  push(chunk: Buffer): Buffer[] {
    if (this.#ended) {
      if (chunk.length > 0) throw new Error('binary COPY data after its trailer');
      return [];
    }
    const batches: Buffer[] = [];
    let from = 0;
    while (from < chunk.length) {
      if (this.#filled === this.#staging.length) this.#makeRoom();
      const n = chunk.copy(this.#staging, this.#filled, from, from + (this.#staging.length - this.#filled));
      this.#filled += n;
      from += n;
      this.#cut(batches);
      if (this.#ended) {
        if (from < chunk.length) throw new Error('binary COPY data after its trailer');
        break;
      }
    }
    return batches;
  }

  /** Staging is full of one incomplete tuple (or of tuples not yet emitted): make it larger. */
  #makeRoom(): void {
    const larger = Buffer.allocUnsafe(this.#staging.length * 2);
    this.#staging.copy(larger, 0, 0, this.#filled);
    this.#staging = larger;
  }

  /** Emit every batch of whole tuples that reached the size; keep the rest at the start. */
  #cut(batches: Buffer[]): void {
    const buf = this.#staging;
    const filled = this.#filled;
    if (!this.#headerRead) {
      if (filled < SIGNATURE.length + 8) return;
      if (!buf.subarray(0, SIGNATURE.length).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      const headerEnd = SIGNATURE.length + 8 + buf.readUInt32BE(SIGNATURE.length + 4);
      if (filled < headerEnd) return;
      this.#headerRead = true;
      this.#drop(headerEnd);
    }
    let at = this.#scan;
    let batchStart = 0;
    for (;;) {
      if (at + 2 > this.#filled) break;
      const fields = buf.readInt16BE(at);
      if (fields === -1) {
        this.#ended = true;
        if (at > batchStart) batches.push(this.#copyOut(batchStart, at));
        this.#filled = 0;
        this.#scan = 0;
        return;
      }
      let end = at + 2;
      let complete = true;
      for (let f = 0; f < fields; f++) {
        if (end + 4 > this.#filled) {
          complete = false;
          break;
        }
        end += 4 + Math.max(0, buf.readInt32BE(end));
      }
      if (!complete || end > this.#filled) break;
      at = end;
      this.tuples++;
      if (at - batchStart >= this.#batchBytes) {
        batches.push(this.#copyOut(batchStart, at));
        batchStart = at;
      }
    }
    this.#drop(batchStart);
    this.#scan = at - batchStart;
  }

  /** Staging's bytes from `start` to `end`, as a batch of its own. */
  #copyOut(start: number, end: number): Buffer {
    const batch = this.#batchBuffer(end - start);
    this.#staging.copy(batch, 0, start, end);
    return batch;
  }

  /** Forget the first `n` bytes of staging. */
  #drop(n: number): void {
    if (n === 0) return;
    this.#staging.copy(this.#staging, 0, n, this.#filled);
    this.#filled -= n;
  }

  /** The stream ended: it must have ended at its trailer, with nothing left over. */
  end(): void {
    if (!this.#ended || this.#filled > 0) throw new Error('binary COPY stream ended without its trailer');
  }
}
