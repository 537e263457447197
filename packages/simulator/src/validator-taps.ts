import type { TapTable } from './ridership';

/** The taps of each validator in time order: `tap(v, k)` is the index of validator v's k-th tap. */
export type ValidatorTaps = {
  count(validator: number): number;
  tap(validator: number, k: number): number;
  /** k of a tap within its validator's taps. */
  position(tap: number): number;
};

export function groupByValidator(taps: TapTable, validators: number): ValidatorTaps {
  const n = taps.count;
  // A counting sort by validator, then each validator's slice by time (tap index breaks ties).
  const first = new Uint32Array(validators + 1);
  for (let i = 0; i < n; i++) {
    const slot = (taps.validator[i] ?? 0) + 1;
    first[slot] = (first[slot] ?? 0) + 1;
  }
  for (let v = 0; v < validators; v++) first[v + 1] = (first[v + 1] ?? 0) + (first[v] ?? 0);
  const ordered = new Uint32Array(n);
  const fill = first.slice(0, validators);
  for (let i = 0; i < n; i++) {
    const v = taps.validator[i] ?? 0;
    ordered[fill[v] ?? 0] = i;
    fill[v] = (fill[v] ?? 0) + 1;
  }
  for (let v = 0; v < validators; v++) {
    ordered
      .subarray(first[v], first[v + 1])
      .sort((a, b) => (taps.time[a] ?? 0) - (taps.time[b] ?? 0) || a - b);
  }
  const position = new Uint32Array(n);
  for (let v = 0; v < validators; v++) {
    for (let p = first[v] ?? 0; p < (first[v + 1] ?? 0); p++) position[ordered[p] ?? 0] = p - (first[v] ?? 0);
  }
  return {
    count: (v) => (first[v + 1] ?? 0) - (first[v] ?? 0),
    tap: (v, k) => ordered[(first[v] ?? 0) + k] ?? 0,
    position: (i) => position[i] ?? 0,
  };
}

/** The indexes 0..length-1 in a random order (Fisher–Yates). */
export function permutation(length: number, random: { int(min: number, max: number): number }): Uint32Array {
  const out = new Uint32Array(length);
  for (let i = 0; i < length; i++) out[i] = i;
  for (let i = length - 1; i > 0; i--) {
    const j = random.int(0, i);
    const t = out[i] ?? 0;
    out[i] = out[j] ?? 0;
    out[j] = t;
  }
  return out;
}
