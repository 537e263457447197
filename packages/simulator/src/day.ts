import { TAP_REJECT_REASONS } from '@boarding/contracts/tap';
import { serviceDayStartMs } from '@boarding/contracts/time';
import { z } from 'zod';
import { buildCity, type City, MIN_VALIDATORS, validatorCountFor } from './city';
import { type DayState, MESSAGE_KIND, TAP_FLAG } from './day-state';
import { assignSeqs, pickDrift, pickDuplicates, pickMalformed, pickResets } from './faults';
import type { HesAnswer } from './hes-answers';
import { createSerializer, type SimMessage } from './messages';
import { deriveSeed, Random } from './random';
import {
  buildRegistryModel,
  type RegistryModel,
  type RegistryRow,
  type UnmatchedPerson,
} from './registry-model';
import { generateRidership, type TapTable } from './ridership';
import { type DayTruth, DEFAULT_FAULT_RATES, FaultRates, type MalformedKind } from './truth';
import { pickCoverage, scheduleUploads } from './uploads';
import { groupByValidator } from './validator-taps';

export type { SimMessage } from './messages';
export type { UnmatchedPerson } from './registry-model';

export const DayOptions = z.strictObject({
  /** The service day, Europe/Istanbul calendar date. */
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD'),
  /** Distinct taps the validators record (duplicates, heartbeats and malformed come on top). */
  taps: z.int().min(1).max(50_000_000),
  seed: z.int().min(0).default(1),
  faults: FaultRates.partial().default({}),
  /** Overrides the validator count scaled from `taps` (8,000 at 2 M). */
  validators: z.int().min(MIN_VALIDATORS).max(1_000_000).optional(),
  /**
   * From this instant on, validators check each card's HES status (SPEC §10): a card with no
   * match is refused HES_NOT_MATCHED, one whose HES code is risky HES_RISKY, every time. Before
   * it (and without it) they refuse the odd tap for any reason, as before.
   */
  matchingDeadline: z.iso.datetime({ offset: true }).optional(),
});
export type DayOptions = z.input<typeof DayOptions>;

/**
 * A simulated day, planned but not yet written out: the compact state of every tap (typed
 * arrays), the message order, and the ground truth. Message strings are made on demand, in
 * production order, so a 2 M-tap day never holds 2 M strings at once.
 */
export type DayPlan = {
  truth: DayTruth;
  city: City;
  /** Number of messages `messages()` yields. */
  messageCount: number;
  /** The Kafka messages in production order: global upload time, then validator. */
  messages(from?: number): Generator<SimMessage>;
  /** The registry import rows (SPEC §3) behind `truth.expected.matched`. */
  registryRows(): Generator<RegistryRow>;
  /** Riders whose card is matched at no instant of the day: who can match it today (the demo). */
  unmatchedPeople(): Generator<UnmatchedPerson>;
  /** The HES service's answers for every person of the day, matched or not: the stand-in's data. */
  hesAnswers(): Generator<HesAnswer>;
};

const REJECTED_SHARE = 0.03;

export function planDay(input: DayOptions): DayPlan {
  const parsed = DayOptions.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(
      `invalid day options: ${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  const options = parsed.data;
  const faults: FaultRates = { ...DEFAULT_FAULT_RATES, ...options.faults };
  const { day, seed } = options;
  const dayStartMs = serviceDayStartMs(day);
  // One stream per concern, so that a change in how one part draws leaves the others alone.
  const stream = (label: string) => new Random(deriveSeed(seed, `${day}:${label}`));
  const target = (rate: number) => Math.round(options.taps * rate);

  // The network (for a scale) and each validator's seq offset belong to the seed, not the day.
  const city = buildCity({
    validators: options.validators ?? validatorCountFor(options.taps),
    random: new Random(deriveSeed(seed, 'city')),
  });
  const validators = city.validators.length;
  const ridership = generateRidership({ taps: options.taps, city, dayStartMs, random: stream('riders') });
  const { taps } = ridership;
  const registry = buildRegistryModel({ riders: ridership.riders, day, dayStartMs, seed });
  const deadlineMs =
    options.matchingDeadline === undefined ? undefined : Date.parse(options.matchingDeadline);
  const { card, result } = assignCardsAndResults(taps, registry, stream('results'), deadlineMs);
  const groups = groupByValidator(taps, validators);

  const flags = new Uint8Array(taps.count);
  const resets = pickResets({
    groups,
    validators,
    taps,
    card,
    flags,
    target: target(faults.resets),
    random: stream('resets'),
  });
  const seq = assignSeqs({
    groups,
    validators,
    taps: taps.count,
    resets,
    dayStartMs,
    random: new Random(deriveSeed(seed, 'seq')),
  });
  const drift = pickDrift({ flags, target: target(faults.drift), random: stream('drift') });
  const duplicates = pickDuplicates({
    flags,
    target: target(faults.duplicates),
    random: stream('duplicates'),
  });
  const malformed = pickMalformed({
    taps,
    validators,
    target: target(faults.malformed),
    random: stream('malformed'),
  });
  const coverage = pickCoverage({
    city,
    groups,
    taps,
    dayStartMs,
    lateTarget: target(faults.late),
    lateRandom: stream('late'),
    windowRandom: stream('offline'),
  });
  const uploads = scheduleUploads({
    city,
    groups,
    taps,
    seq,
    flags,
    copies: duplicates.copies,
    malformed,
    coverage,
    dayStartMs,
    outOfOrderTarget: target(faults.outOfOrder),
    random: stream('uploads'),
  });

  // Production order: upload time, then validator index (a validator's times never tie).
  const { msg } = uploads;
  const order = new Uint32Array(msg.count);
  for (let m = 0; m < msg.count; m++) order[m] = m;
  order.sort(
    (a, b) => (msg.time[a] ?? 0) - (msg.time[b] ?? 0) || (msg.validator[a] ?? 0) - (msg.validator[b] ?? 0),
  );

  const state: DayState = {
    city,
    registry,
    taps,
    card,
    result,
    seq,
    shownTime: uploads.shownTime,
    malformed,
    msg,
    order,
  };
  const truth = computeTruth({
    state,
    flags,
    day,
    seed,
    faults,
    counts: {
      duplicates: duplicates.count,
      heartbeats: uploads.heartbeats,
      malformedByKind: malformed.byKind,
      driftFuture: drift.future,
      driftOld: drift.old,
      resets: resets.count,
      late: uploads.late,
      outOfOrder: countOutOfOrder(state, flags),
      transfers: ridership.transfers,
    },
  });
  const serialize = createSerializer(state);
  return {
    truth,
    city,
    messageCount: msg.count,
    *messages(from = 0) {
      for (let k = from; k < msg.count; k++) yield serialize(order[k] ?? 0);
    },
    registryRows: () => registry.rows(),
    unmatchedPeople: () => registry.unmatchedPeople(),
    hesAnswers: () => registry.hesAnswers(),
  };
}

/** The card a rider holds at each tap, and the validator's verdict, leaning on HES status. */
function assignCardsAndResults(
  taps: TapTable,
  registry: RegistryModel,
  random: Random,
  matchingDeadlineMs: number | undefined,
): { card: Uint32Array; result: Uint8Array } {
  const card = new Uint32Array(taps.count);
  const result = new Uint8Array(taps.count);
  for (let i = 0; i < taps.count; i++) {
    const time = taps.time[i] ?? 0;
    const c = registry.cardOf(taps.rider[i] ?? 0, time);
    card[i] = c;
    const matched = registry.hasMatchAt(c, time);
    // Drawn the same with or without a deadline: the rest of the day does not move.
    const reason = random.chance(REJECTED_SHARE) ? pickRejectReason(random, matched) : -1;
    if (matchingDeadlineMs !== undefined && time >= matchingDeadlineMs) {
      result[i] = 1 + hesCheckedReason(reason, matched, matched && registry.hesRiskyAt(c, time));
      continue;
    }
    if (reason >= 0) result[i] = 1 + reason;
  }
  return { card, result };
}

const REASON = (name: (typeof TAP_REJECT_REASONS)[number]) => TAP_REJECT_REASONS.indexOf(name);

/**
 * The verdict of a validator that checks the HES status (0-based reason, -1 = accepted): a card
 * not matched or risky is always refused for that; otherwise the odd refusal keeps its reason,
 * except a HES reason the card does not have (then OTHER).
 */
function hesCheckedReason(reason: number, matched: boolean, risky: boolean): number {
  if (!matched) return REASON('HES_NOT_MATCHED');
  if (risky) return REASON('HES_RISKY');
  if (reason === REASON('HES_NOT_MATCHED') || reason === REASON('HES_RISKY')) return REASON('OTHER');
  return reason;
}

/** The whole day in memory, for tests and small days. */
export function generateDay(input: DayOptions): {
  messages: SimMessage[];
  registryRows: RegistryRow[];
  truth: DayTruth;
} {
  const plan = planDay(input);
  return { messages: [...plan.messages()], registryRows: [...plan.registryRows()], truth: plan.truth };
}

/**
 * Taps (first copies, counter-reset conflicts aside) that reach Kafka after a tap of the same
 * validator with a higher seq, counted on the final message order.
 */
function countOutOfOrder(state: DayState, flags: Uint8Array): number {
  const { msg, seq } = state;
  const maxSeq = new Float64Array(state.city.validators.length).fill(-1);
  let count = 0;
  for (let k = 0; k < msg.count; k++) {
    const m = state.order[k] ?? 0;
    if (msg.kind[m] !== MESSAGE_KIND.TAP) continue;
    const i = msg.ref[m] ?? 0;
    if ((flags[i] ?? 0) & TAP_FLAG.RESET_CONFLICT) continue;
    const v = msg.validator[m] ?? 0;
    const s = seq[i] ?? 0;
    if (s < (maxSeq[v] ?? -1)) count++;
    else maxSeq[v] = s;
  }
  return count;
}

function computeTruth(input: {
  state: DayState;
  flags: Uint8Array;
  day: string;
  seed: number;
  faults: FaultRates;
  counts: {
    duplicates: number;
    heartbeats: number;
    malformedByKind: Record<MalformedKind, number>;
    driftFuture: number;
    driftOld: number;
    resets: number;
    late: number;
    outOfOrder: number;
    transfers: number;
  };
}): DayTruth {
  const { state, flags, counts } = input;
  const { taps, card, result, registry } = state;
  const n = taps.count;
  let stored = 0;
  let matched = 0;
  let rejected = 0;
  const seenCards = new Uint8Array(registry.riders + registry.counts.cardsReplacedDuringDay);
  let cards = 0;
  const validatorsSeen = new Uint8Array(state.city.validators.length);
  for (let i = 0; i < n; i++) {
    const c = card[i] ?? 0;
    if (!seenCards[c]) {
      seenCards[c] = 1;
      cards++;
    }
    validatorsSeen[taps.validator[i] ?? 0] = 1;
    if ((flags[i] ?? 0) & (TAP_FLAG.RESET_CONFLICT | TAP_FLAG.DRIFT_FUTURE | TAP_FLAG.DRIFT_OLD)) continue;
    stored++;
    if (registry.hasMatchAt(c, taps.time[i] ?? 0)) matched++;
    if ((result[i] ?? 0) !== 0) rejected++;
  }
  const malformedTotal = Object.values(counts.malformedByKind).reduce((a, b) => a + b, 0);
  const drift = counts.driftFuture + counts.driftOld;
  return {
    day: input.day,
    seed: input.seed,
    faults: input.faults,
    messages: n + counts.duplicates + counts.heartbeats + malformedTotal,
    taps: n + counts.duplicates,
    uniqueTaps: n,
    heartbeats: counts.heartbeats,
    duplicates: counts.duplicates,
    malformed: counts.malformedByKind,
    drift,
    resets: counts.resets,
    late: counts.late,
    outOfOrder: counts.outOfOrder,
    validators: validatorsSeen.reduce((a, b) => a + b, 0),
    cards,
    transfers: counts.transfers,
    registryRows: registry.counts.rows,
    expected: {
      stored,
      duplicates: counts.duplicates,
      deadLettered: {
        ...counts.malformedByKind,
        SEQ_CONFLICT: counts.resets,
        CLOCK_DRIFT_FUTURE: counts.driftFuture,
        TAP_TOO_OLD: counts.driftOld,
      },
      matched,
      unmatched: stored - matched,
      rejected,
    },
  };
}

// Rejections the validator decides: an unmatched card is often refused for its HES status.
const REJECT_WEIGHTS_MATCHED = [0.6, 0.1, 0, 0.15, 0.15];
const REJECT_WEIGHTS_UNMATCHED = [0.45, 0.08, 0.35, 0, 0.12];

function pickRejectReason(random: Random, matched: boolean): number {
  const weights = matched ? REJECT_WEIGHTS_MATCHED : REJECT_WEIGHTS_UNMATCHED;
  let r = random.next();
  for (let i = 0; i < TAP_REJECT_REASONS.length; i++) {
    r -= weights[i] ?? 0;
    if (r < 0) return i;
  }
  return TAP_REJECT_REASONS.length - 1;
}
