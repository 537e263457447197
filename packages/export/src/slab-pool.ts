/**
 * Buffers of one fixed size, handed out and given back, so the ~1,000 batches of a 2 M-tap day
 * reuse a handful of buffers instead of allocating ~1 GB of them. V8 frees a buffer only at a
 * full collection once the buffer has outlived two minor ones (a batch in flight does), and it
 * starts one only after 64 MiB more of them: that sawtooth was the export's memory growing with
 * the day.
 *
 * A slab given back twice, or one still in use given back, would put two batches' bytes in one
 * buffer: `give` refuses a slab that is not out, and the caller gives a slab back only once
 * nothing reads it (after its rows are formatted, after its bytes are written).
 */
export class SlabPool {
  readonly bytes: number;
  readonly #free: ArrayBuffer[] = [];
  readonly #out = new Set<ArrayBuffer>();

  /** `bytes`: the size of a slab; a request larger than that gets a buffer of its own. */
  constructor(bytes: number) {
    this.bytes = bytes;
  }

  /** Slabs handed out and not given back. */
  get out(): number {
    return this.#out.size;
  }

  /** Slabs made so far (out or free): what the pool holds at most. */
  get made(): number {
    return this.#out.size + this.#free.length;
  }

  #slab(n: number): ArrayBuffer | undefined {
    if (n > this.bytes) return undefined;
    const slab = this.#free.pop() ?? new ArrayBuffer(this.bytes);
    this.#out.add(slab);
    return slab;
  }

  /** `n` bytes, uninitialised: the start of a slab, or (larger than a slab) a buffer of its own. */
  buffer(n: number): Buffer {
    const slab = this.#slab(n);
    return slab === undefined ? Buffer.allocUnsafe(n) : Buffer.from(slab, 0, n);
  }

  /** `n` 32-bit integers, uninitialised, on the same terms. */
  int32s(n: number): Int32Array {
    const slab = this.#slab(n * 4);
    return slab === undefined ? new Int32Array(n) : new Int32Array(slab, 0, n);
  }

  /** Give back what `buffer` or `int32s` handed out; a buffer of its own is left to the collector. */
  give(view: ArrayBufferView): void {
    const slab = view.buffer;
    if (!(slab instanceof ArrayBuffer) || slab.byteLength !== this.bytes) return;
    if (!this.#out.delete(slab)) throw new Error('a slab was given back that is not out');
    this.#free.push(slab);
  }
}
