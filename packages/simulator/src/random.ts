/**
 * A small seeded PRNG (mulberry32): the same seed gives the same day, byte for byte, on every
 * machine and Node version (Math.random cannot be seeded).
 */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * A seed for one concern of a simulation (`deriveSeed(42, 'city')`), so that each concern draws
 * from its own stream: changing how many numbers one part draws does not shift every other part.
 */
export function deriveSeed(seed: number, label: string): number {
  // FNV-1a over the text: stable across platforms, and distinct labels give unrelated streams.
  let hash = 0x811c9dc5;
  const text = `${seed}:${label}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Picks indexes with probability proportional to their weights: a cumulative table and a
 * binary search, so a pick costs O(log n) over thousands of validators.
 */
export class WeightedPicker {
  readonly #cumulative: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.#cumulative = new Float64Array(weights.length);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      const weight = weights[i] ?? 0;
      if (!(weight >= 0)) throw new RangeError(`weight ${i} is not a non-negative number`);
      sum += weight;
      this.#cumulative[i] = sum;
    }
    if (!(sum > 0)) throw new RangeError('weights must not all be zero');
  }

  pick(random: Random): number {
    const cumulative = this.#cumulative;
    const target = random.next() * (cumulative[cumulative.length - 1] ?? 0);
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] ?? 0) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
