import { DAY_MS } from '@boarding/contracts/time';
import { TAP_FLAG } from './day-state';
import type { Random } from './random';
import type { TapTable } from './ridership';
import { MALFORMED_KINDS, type MalformedKind } from './truth';
import { permutation, type ValidatorTaps } from './validator-taps';

// Which taps carry which fault. Faults are disjoint (a tap has at most one), so that each
// message has exactly one expected outcome and the truth can be counted per fault.

export type Resets = {
  /** Position (k) of the first tap after the reset, or -1: one reset per validator at most. */
  at: Int32Array;
  /** How far the counter went back: that many taps from `at` reuse earlier seqs. */
  length: Uint32Array;
  /** Taps reusing a seq (SEQ_CONFLICT). */
  count: number;
};

/**
 * Counter resets. After a reset at position p the counter is k lower: the k taps from p reuse
 * the seqs of the k taps before p, with other cards (SEQ_CONFLICT), and the counter then
 * carries on where it was, so no seq is missing. Marks both sides in `flags`.
 */
export function pickResets(input: {
  groups: ValidatorTaps;
  validators: number;
  taps: TapTable;
  card: Uint32Array;
  flags: Uint8Array;
  target: number;
  random: Random;
}): Resets {
  const { groups, taps, card, flags, target, random } = input;
  const resets: Resets = {
    at: new Int32Array(input.validators).fill(-1),
    length: new Uint32Array(input.validators),
    count: 0,
  };
  const order = permutation(input.validators, random);
  for (let o = 0; o < order.length && resets.count < target; o++) {
    const v = order[o] ?? 0;
    const count = groups.count(v);
    const wanted = target - resets.count;
    // Up to 3 seqs per reset, more when few validators must carry a high rate.
    const kMax = Math.min(wanted, Math.max(3, Math.ceil(wanted / (order.length - o))), Math.floor(count / 2));
    if (kMax < 1) continue;
    const k = random.int(1, kMax);
    const p = random.int(k, count - k);
    let conflicts = true;
    for (let j = 0; j < k; j++) {
      const original = groups.tap(v, p - k + j);
      const reused = groups.tap(v, p + j);
      // Same card and instant would be a duplicate, not a conflict.
      if (card[original] === card[reused] || taps.time[original] === taps.time[reused]) conflicts = false;
    }
    if (!conflicts) continue;
    for (let j = 0; j < k; j++) {
      const original = groups.tap(v, p - k + j);
      const reused = groups.tap(v, p + j);
      flags[original] = (flags[original] ?? 0) | TAP_FLAG.RESET_ORIGINAL;
      flags[reused] = (flags[reused] ?? 0) | TAP_FLAG.RESET_CONFLICT;
    }
    resets.at[v] = p;
    resets.length[v] = k;
    resets.count += k;
  }
  return resets;
}

// Each validator's counter for day D starts a stride past day D-1's, so days simulated with one
// seed never reuse a (validatorId, seq) of each other (while a validator records < 50,000 a day).
const SEQ_DAY_STRIDE = 50_000;
const SEQ_EPOCH_MS = Date.UTC(2019, 0, 1);

/** seq of every tap: +1 per tap from a per-validator offset, minus the reset's step after it. */
export function assignSeqs(input: {
  groups: ValidatorTaps;
  validators: number;
  taps: number;
  resets: Resets;
  dayStartMs: number;
  /** The seed's own stream: offsets are the same on every day of a seed. */
  random: Random;
}): Float64Array {
  const { groups, resets } = input;
  const seq = new Float64Array(input.taps);
  const dayNumber = Math.max(0, Math.floor((input.dayStartMs - SEQ_EPOCH_MS) / DAY_MS));
  for (let v = 0; v < input.validators; v++) {
    const base = input.random.int(0, 9_999_999) + dayNumber * SEQ_DAY_STRIDE;
    const p = resets.at[v] ?? -1;
    const k = resets.length[v] ?? 0;
    for (let j = 0; j < groups.count(v); j++) seq[groups.tap(v, j)] = base + j - (p >= 0 && j >= p ? k : 0);
  }
  return seq;
}

/**
 * Drifting device clocks, alternately ahead (CLOCK_DRIFT_FUTURE) and behind (TAP_TOO_OLD), on
 * taps without another fault. The written instant is set once upload times are known.
 */
export function pickDrift(input: { flags: Uint8Array; target: number; random: Random }): {
  future: number;
  old: number;
} {
  const { flags, target, random } = input;
  const drift = { future: 0, old: 0 };
  for (let attempt = 0; drift.future + drift.old < target && attempt < 50 * target + 1000; attempt++) {
    const i = random.int(0, flags.length - 1);
    if (flags[i] !== 0) continue;
    if (drift.future <= drift.old) {
      flags[i] = TAP_FLAG.DRIFT_FUTURE;
      drift.future++;
    } else {
      flags[i] = TAP_FLAG.DRIFT_OLD;
      drift.old++;
    }
  }
  return drift;
}

/** Extra copies per tap, of stored taps only: a repeat of a dead-lettered tap has no single outcome. */
export function pickDuplicates(input: { flags: Uint8Array; target: number; random: Random }): {
  copies: Uint8Array;
  count: number;
} {
  const { flags, target, random } = input;
  const copies = new Uint8Array(flags.length);
  let count = 0;
  for (let attempt = 0; count < target && attempt < 50 * target + 1000; attempt++) {
    const i = random.int(0, flags.length - 1);
    if (flags[i] !== 0 || (copies[i] ?? 0) >= 255) continue;
    copies[i] = (copies[i] ?? 0) + 1;
    count++;
  }
  return { copies, count };
}

export type Malformed = {
  /** The tap each malformed message is a broken rendering of (and whose validator sends it). */
  tap: Uint32Array;
  /** Index into MALFORMED_KINDS. */
  kind: Uint8Array;
  /** Where a truncated value is cut, or how far past 16 KiB an oversized one goes. */
  cut: Uint16Array;
  byKind: Record<MalformedKind, number>;
  /** Malformed message indexes per validator. */
  ofValidator: number[][];
};

/** Malformed messages, the kinds taken in turn so each appears once every four messages. */
export function pickMalformed(input: {
  taps: TapTable;
  validators: number;
  target: number;
  random: Random;
}): Malformed {
  const { taps, target, random } = input;
  const malformed: Malformed = {
    tap: new Uint32Array(target),
    kind: new Uint8Array(target),
    cut: new Uint16Array(target),
    byKind: Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<MalformedKind, number>,
    ofValidator: Array.from({ length: input.validators }, () => []),
  };
  const offset = random.int(0, MALFORMED_KINDS.length - 1);
  for (let j = 0; j < target; j++) {
    const i = random.int(0, taps.count - 1);
    const kind = (j + offset) % MALFORMED_KINDS.length;
    malformed.tap[j] = i;
    malformed.kind[j] = kind;
    malformed.cut[j] = random.int(8, 200);
    const name = MALFORMED_KINDS[kind];
    if (name !== undefined) malformed.byKind[name]++;
    malformed.ofValidator[taps.validator[i] ?? 0]?.push(j);
  }
  return malformed;
}
