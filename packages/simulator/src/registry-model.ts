import type { CardKind } from '@boarding/contracts/card-no';
import { DAY_MS, HOUR_MS } from '@boarding/contracts/time';
import { type HesAnswer, hesStatusOf } from './hes-answers';
import { syntheticCardNo, syntheticHes, syntheticTc } from './identities';
import { deriveSeed, Random } from './random';

/**
 * The card–HES–TC registry behind a simulated day (SPEC §3): which rider's card is matched,
 * from when, and what changes during the day. The simulator answers "had this card a match at
 * this instant?" from this model, and writes the same model as the import CSV, so the expected
 * matched/unmatched counts follow from the file the pipeline is given.
 *
 * Rider r holds card r and is person r (TC `syntheticTc(r)`); a replacement card gets an index
 * after the last rider's.
 */
export type RegistryRow = {
  cardNo: string;
  tcKimlikNo: string;
  hesCode: string;
  cardKind: CardKind;
  validFrom: number;
  validTo: number | null;
};

export type RegistryCounts = {
  /** Cards with a match at some instant of the day. */
  matchedCards: number;
  /** Matches started during the day (first match at a kiosk or activation point). */
  matchedDuringDay: number;
  /** HES codes changed during the day: the old row closed at an instant of D, a new one opened. */
  hesChangedDuringDay: number;
  /** Cards replaced during the day: the old card's match ends, the new card's starts. */
  cardsReplacedDuringDay: number;
  rows: number;
};

export type RegistryModel = {
  riders: number;
  counts: RegistryCounts;
  /** The card a rider taps with at `ms`: their own, or the replacement once it is issued. */
  cardOf(rider: number, ms: number): number;
  cardNoOf(card: number): string;
  /** The as-of join: does the card have a match whose `[validFrom, validTo)` holds `ms`? */
  hasMatchAt(card: number, ms: number): boolean;
  /** Whether the card's match at `ms` has a HES code the HES service calls RISKY (hesStatusOf). */
  hesRiskyAt(card: number, ms: number): boolean;
  /** Every row of the import file, grouped by person, each person's history in time order. */
  rows(): Generator<RegistryRow>;
  /**
   * The riders whose card has no match at any instant of the day, in rider order, each with the
   * HES code they hold: people a citizen channel can match today without a `CARD_TAKEN` (their
   * card is nobody's) or ending a match (they have none).
   */
  unmatchedPeople(): Generator<UnmatchedPerson>;
  /**
   * What the Ministry's HES service knows of these people (the HES stand-in's data): every HES code
   * of the registry rows and of `unmatchedPeople()`, once each (first owner wins), with its status.
   */
  hesAnswers(): Generator<HesAnswer>;
};

/** A rider with a card and a HES code who has not matched them. */
export type UnmatchedPerson = { cardNo: string; tcKimlikNo: string; hesCode: string; cardKind: CardKind };

// About 55 % of active cards matched (SPEC §8): photo cards more often than anonymous ones.
const PERSONAL_SHARE = 0.6;
const MATCHED_SHARE: Record<CardKind, number> = { PERSONAL: 0.66, ANONYMOUS: 0.38 };
const PRIOR_HES_SHARE = 0.05;
const HES_CHANGE_IN_DAY_SHARE = 0.01;
const REPLACED_IN_DAY_SHARE = 0.005;
const MATCHED_IN_DAY_SHARE = 0.02;
const MAX_MATCH_AGE_MS = 120 * DAY_MS;

export function buildRegistryModel(options: {
  riders: number;
  day: string;
  dayStartMs: number;
  seed: number;
}): RegistryModel {
  const { riders, dayStartMs } = options;
  // Who is matched, with which card kind, depends on the seed only, so rider r is the same
  // person on every simulated day of a seed; what changes during the day depends on the day.
  const random = new Random(deriveSeed(options.seed, 'registry'));
  const events = new Random(deriveSeed(options.seed, `registry:${options.day}`));
  const personal = new Uint8Array(riders);
  const from = new Float64Array(riders).fill(Number.NaN);
  const priorFrom = new Float64Array(riders).fill(Number.NaN);
  const hesChangeAt = new Float64Array(riders).fill(Number.NaN);
  const replacedAt = new Float64Array(riders).fill(Number.NaN);
  const replacementOf = new Int32Array(riders).fill(-1);
  const replacementRider: number[] = [];
  const counts: RegistryCounts = {
    matchedCards: 0,
    matchedDuringDay: 0,
    hesChangedDuringDay: 0,
    cardsReplacedDuringDay: 0,
    rows: 0,
  };
  // Instants are whole milliseconds: tappedAt has millisecond precision, and the CSV writes them.
  const instant = (lo: number, hi: number): number => Math.floor(random.uniform(lo, hi));
  const eventInstant = (lo: number, hi: number): number => Math.floor(events.uniform(lo, hi));

  for (let r = 0; r < riders; r++) {
    const kind: CardKind = random.chance(PERSONAL_SHARE) ? 'PERSONAL' : 'ANONYMOUS';
    personal[r] = kind === 'PERSONAL' ? 1 : 0;
    if (random.chance(MATCHED_SHARE[kind])) {
      from[r] = instant(dayStartMs - MAX_MATCH_AGE_MS, dayStartMs - HOUR_MS);
      counts.matchedCards++;
      counts.rows++;
      if (random.chance(PRIOR_HES_SHARE)) {
        priorFrom[r] = instant((from[r] ?? 0) - 60 * DAY_MS, (from[r] ?? 0) - DAY_MS);
        counts.rows++;
      }
      const event = events.next();
      if (event < HES_CHANGE_IN_DAY_SHARE) {
        hesChangeAt[r] = eventInstant(dayStartMs + 1, dayStartMs + DAY_MS);
        counts.hesChangedDuringDay++;
        counts.rows++;
      } else if (event < HES_CHANGE_IN_DAY_SHARE + REPLACED_IN_DAY_SHARE) {
        // Replacement cards are issued at activation points, open in the daytime.
        replacedAt[r] = eventInstant(dayStartMs + 8 * HOUR_MS, dayStartMs + 20 * HOUR_MS);
        replacementOf[r] = replacementRider.length;
        replacementRider.push(r);
        counts.cardsReplacedDuringDay++;
        counts.matchedCards++;
        counts.rows++;
      }
    } else if (events.chance(MATCHED_IN_DAY_SHARE)) {
      from[r] = eventInstant(dayStartMs + 6 * HOUR_MS, dayStartMs + 22 * HOUR_MS);
      counts.matchedCards++;
      counts.matchedDuringDay++;
      counts.rows++;
    }
  }

  const baseHesSeed = deriveSeed(options.seed, 'registry-hes');
  const eventHesSeed = deriveSeed(options.seed, `registry-hes:${options.day}`);
  // Its own stream: writing the stand-in's data never shifts a code of the registry file.
  const unmatchedHesSeed = deriveSeed(options.seed, `unmatched-hes:${options.day}`);

  function* unmatchedPeople(): Generator<UnmatchedPerson> {
    const hes = new Random(unmatchedHesSeed);
    for (let r = 0; r < riders; r++) {
      if (!Number.isNaN(from[r] ?? Number.NaN)) continue;
      yield {
        cardNo: syntheticCardNo(r),
        tcKimlikNo: syntheticTc(r),
        hesCode: syntheticHes(hes),
        cardKind: personal[r] ? 'PERSONAL' : 'ANONYMOUS',
      };
    }
  }

  function* rows(): Generator<RegistryRow> {
    for (const [, row] of cardRows()) yield row;
  }

  /** The registry rows with the index of the card each is about (a rider's, or a replacement). */
  function* cardRows(): Generator<[number, RegistryRow]> {
    // Own streams, drawn in rider order: the file is the same however often it is read, and a
    // rider's HES code before the day is the same on every day of a seed.
    const baseHes = new Random(baseHesSeed);
    const eventHes = new Random(eventHesSeed);
    for (let r = 0; r < riders; r++) {
      const start = from[r] ?? Number.NaN;
      if (Number.isNaN(start)) continue;
      const person = {
        tcKimlikNo: syntheticTc(r),
        cardKind: personal[r] ? 'PERSONAL' : 'ANONYMOUS',
      } as const;
      const cardNo = syntheticCardNo(r);
      const prior = priorFrom[r] ?? Number.NaN;
      if (!Number.isNaN(prior)) {
        yield [r, { cardNo, ...person, hesCode: syntheticHes(baseHes), validFrom: prior, validTo: start }];
      }
      const hesCode = syntheticHes(start < dayStartMs ? baseHes : eventHes);
      const changed = hesChangeAt[r] ?? Number.NaN;
      const replaced = replacedAt[r] ?? Number.NaN;
      const end = !Number.isNaN(changed) ? changed : !Number.isNaN(replaced) ? replaced : null;
      yield [r, { cardNo, ...person, hesCode, validFrom: start, validTo: end }];
      if (!Number.isNaN(changed)) {
        yield [r, { cardNo, ...person, hesCode: syntheticHes(eventHes), validFrom: changed, validTo: null }];
      }
      if (!Number.isNaN(replaced)) {
        const newCard = riders + (replacementOf[r] ?? 0);
        yield [
          newCard,
          { cardNo: syntheticCardNo(newCard), ...person, hesCode, validFrom: replaced, validTo: null },
        ];
      }
    }
  }

  // The HES status of each card's matches over time, for validators that check it (SPEC §10,
  // `matchingDeadline`): built on first use from the rows, a card has at most three matches.
  let riskySegments: Map<number, { from: number; to: number; risky: boolean }[]> | undefined;
  const segmentsOf = (card: number) => {
    if (riskySegments === undefined) {
      riskySegments = new Map();
      for (const [c, row] of cardRows()) {
        const list = riskySegments.get(c) ?? [];
        list.push({
          from: row.validFrom,
          to: row.validTo ?? Number.POSITIVE_INFINITY,
          risky: hesStatusOf(row.hesCode) === 'RISKY',
        });
        riskySegments.set(c, list);
      }
    }
    return riskySegments.get(card) ?? [];
  };

  return {
    riders,
    counts,
    hesRiskyAt(card, ms) {
      return segmentsOf(card).some((s) => s.risky && s.from <= ms && ms < s.to);
    },
    cardOf(rider, ms) {
      const at = replacedAt[rider] ?? Number.NaN;
      return ms >= at ? riders + (replacementOf[rider] ?? 0) : rider;
    },
    cardNoOf: syntheticCardNo,
    hasMatchAt(card, ms) {
      if (card >= riders) {
        const r = replacementRider[card - riders];
        return r !== undefined && ms >= (replacedAt[r] ?? Number.NaN);
      }
      const start = Number.isNaN(priorFrom[card] ?? Number.NaN) ? from[card] : priorFrom[card];
      if (start === undefined || Number.isNaN(start) || ms < start) return false;
      // NaN compares false: a card never replaced keeps its match.
      return !(ms >= (replacedAt[card] ?? Number.NaN));
    },
    rows,
    unmatchedPeople,
    *hesAnswers() {
      // The Ministry knows a person's every code, earlier ones included; a registry file repeats a
      // code along a card's history, and two people could draw one code: the first owner keeps it.
      const seen = new Set<string>();
      for (const people of [rows(), unmatchedPeople()]) {
        for (const { hesCode, tcKimlikNo } of people) {
          if (seen.has(hesCode)) continue;
          seen.add(hesCode);
          yield { hesCode, tcKimlikNo, status: hesStatusOf(hesCode) };
        }
      }
    },
  };
}
