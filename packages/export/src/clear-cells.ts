import { ByteOut } from './byte-out';
import type { DayRows } from './day-file-rows';
import type { SlabPool } from './slab-pool';

// A row's clear TC and HES, as its first two cells and their commas (`tc,hes,`), in bytes. They
// are opened on worker threads (decrypt-batch.ts) once per match and kept as bytes, never as
// strings: at ~700 k matches a day, one string each (kept in the cache below, dropped when a
// later match took its slot) was the export's heap growing with the day.

/**
 * What a worker sends back (decrypt-batch.ts): each opened pair's cells and their commas
 * (`tc,hes,`, quoted where RFC 4180 needs it), UTF-8, end to end, and each pair's length.
 */
export type OpenedCells = { cells: Uint8Array; lengths: Int32Array };

/**
 * Clear cells by match id, so a card tapping again within the next ~100 k rows (a transfer, a
 * short trip back) is not decrypted again: 37 % of a simulated day's rows repeat a match, and
 * AES-GCM's per-value setup is the costliest step of a row. Direct-mapped on the id (identity
 * ids: the matches of a day fall in few collisions): no hashing, no allocation per lookup or
 * store, and a fixed size (~5 MiB) whatever the size of the day. One build, one snapshot: a match
 * id always names the same sealed values.
 */
export class ClearCells {
  static readonly SLOTS = 1 << 17;
  /** A valid TC (11 digits) and HES (10 letters and digits) make 23 bytes; longer cells are not kept. */
  static readonly SLOT_BYTES = 32;
  readonly #ids = new Float64Array(ClearCells.SLOTS).fill(-1);
  readonly #lengths = new Uint8Array(ClearCells.SLOTS);
  readonly #bytes = Buffer.alloc(ClearCells.SLOTS * ClearCells.SLOT_BYTES);

  /** Append the cells of `matchId` to `out`; false (nothing appended) when they are not held. */
  appendTo(matchId: number, out: ByteOut): boolean {
    const slot = matchId % ClearCells.SLOTS;
    if (this.#ids[slot] !== matchId) return false;
    const start = slot * ClearCells.SLOT_BYTES;
    out.bytes(this.#bytes, start, start + (this.#lengths[slot] ?? 0));
    return true;
  }

  /** Keep `src[start, end)` as the cells of `matchId`, in place of whatever had its slot. */
  set(matchId: number, src: Buffer, start: number, end: number): void {
    const slot = matchId % ClearCells.SLOTS;
    if (end - start > ClearCells.SLOT_BYTES) {
      // Too long to keep: opened again when it comes back. The slot's old match stays valid.
      return;
    }
    this.#ids[slot] = matchId;
    this.#lengths[slot] = end - start;
    src.copy(this.#bytes, slot * ClearCells.SLOT_BYTES, start, end);
  }
}

/** Where a batch's gathering takes its buffers from (given back with `giveBack`). */
export type BatchCellsPools = { cells: SlabPool; at: SlabPool };

/**
 * The clear cells of one batch's rows, gathered as bytes: those `ClearCells` holds are copied in
 * when the batch is read (so a later batch taking their slot before this one is written cannot
 * change them), the others once the workers have opened them (`fill`), once per match. Row r's
 * cells are `bytes.buf[at[2r], at[2r + 1])`.
 */
export class BatchCells {
  readonly bytes: ByteOut;
  /** Per row, start and end in `bytes`; until `fill`, a row not held has start `-1 - i`, `i` its match's index in `opening`. */
  readonly at: Int32Array;
  /** The first row of each match not held: the rows whose sealed values the workers open, in this order. */
  readonly opening: number[] = [];
  readonly #batch: DayRows;

  constructor(batch: DayRows, clear: ClearCells, pools?: BatchCellsPools) {
    this.#batch = batch;
    this.bytes = new ByteOut(Math.max(4096, batch.rows * 24), pools?.cells);
    this.at = pools ? pools.at.int32s(2 * batch.rows) : new Int32Array(2 * batch.rows);
    const asked = new Map<number, number>();
    for (let r = 0; r < batch.rows; r++) {
      const id = batch.matchId(r);
      const start = this.bytes.at;
      if (clear.appendTo(id, this.bytes)) {
        this.at[2 * r] = start;
        this.at[2 * r + 1] = this.bytes.at;
        continue;
      }
      let i = asked.get(id);
      if (i === undefined) {
        i = this.opening.length;
        asked.set(id, i);
        this.opening.push(r);
      }
      this.at[2 * r] = -1 - i;
    }
  }

  /**
   * The workers' cells for `opening`, in its order: appended, kept in `clear`, and given to every
   * row of the same match. Cells that do not line up with the rows asked for stop the file: they
   * would put one person's TC on another's row.
   */
  fill(opened: OpenedCells, clear: ClearCells): void {
    const { opening, at, bytes } = this;
    const { lengths } = opened;
    const src = Buffer.from(opened.cells.buffer, opened.cells.byteOffset, opened.cells.byteLength);
    const misaligned = () => new Error('opened TC and HES values do not line up with their rows');
    if (lengths.length !== opening.length) throw misaligned();
    let from = 0;
    for (const [i, r] of opening.entries()) {
      const n = lengths[i] ?? -1;
      if (n < 0 || from + n > src.length) throw misaligned();
      const start = bytes.at;
      bytes.bytes(src, from, from + n);
      at[2 * r] = start;
      at[2 * r + 1] = bytes.at;
      clear.set(this.#batch.matchId(r), src, from, from + n);
      from += n;
    }
    if (from !== src.length) throw misaligned();
    for (let r = 0; r < this.#batch.rows; r++) {
      const start = at[2 * r] ?? 0;
      if (start >= 0) continue;
      const first = opening[-1 - start] ?? -1;
      at[2 * r] = at[2 * first] ?? -1;
      at[2 * r + 1] = at[2 * first + 1] ?? -1;
    }
  }

  /** Give the buffers back to the pools they came from: nothing reads them after. */
  giveBack(pools: BatchCellsPools): void {
    pools.cells.give(this.bytes.buf);
    pools.at.give(this.at);
  }
}
