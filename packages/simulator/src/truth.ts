import type { ReasonCode } from '@boarding/contracts/reasons';
import { z } from 'zod';

/**
 * Dead-letter reasons of the ingest rules (SPEC §2) that no single message shows by itself, so
 * `@boarding/contracts` (which judges one message) does not define them: a seq reused with
 * another card or instant, and a tap instant too far from its Kafka message timestamp.
 */
export const INGEST_REASON_CODES = ['SEQ_CONFLICT', 'CLOCK_DRIFT_FUTURE', 'TAP_TOO_OLD'] as const;
export type IngestReasonCode = (typeof INGEST_REASON_CODES)[number];

/** The malformed messages the simulator writes, by the reason `parseValidatorMessage` gives. */
export const MALFORMED_KINDS = [
  'INVALID_JSON',
  'UNKNOWN_SCHEMA',
  'INVALID_FIELD',
  'OVERSIZED',
] as const satisfies readonly ReasonCode[];
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

const Rate = z.number().min(0).max(1);

/** Shares of the day's taps (`--taps`) affected by each fault (SPEC §2, §8). */
export const FaultRates = z.strictObject({
  /** Exact repeats of a tap message, uploaded again later. */
  duplicates: Rate,
  /** Taps buffered on a bus until its depot sync after midnight (00:05–04:00 next day). */
  late: Rate,
  /** Taps in a batch uploaded after the validator's next batch. */
  outOfOrder: Rate,
  /** Taps whose device clock is > 10 min ahead of, or > 7 days behind, the upload time. */
  drift: Rate,
  /** Taps recorded after a counter reset, reusing an earlier seq with another card. */
  resets: Rate,
  /** Messages that are not a valid tap or heartbeat (bad JSON, wrong type, unknown schema, > 16 KiB). */
  malformed: Rate,
});
export type FaultRates = z.infer<typeof FaultRates>;

export const DEFAULT_FAULT_RATES: FaultRates = {
  duplicates: 0.01,
  late: 0.02,
  outOfOrder: 0.01,
  drift: 0.001,
  resets: 0.0005,
  malformed: 0.0005,
};

export type DeadLetterCounts = Record<MalformedKind | IngestReasonCode, number>;

/**
 * What the pipeline must make of the simulated day. Counts are exact: they are counted on the
 * messages as generated, not derived from the rates.
 */
export type DayTruth = {
  day: string;
  seed: number;
  faults: FaultRates;
  /** Every Kafka message: taps (with duplicates) + heartbeats + malformed. */
  messages: number;
  /** Messages that are valid `tap.v1`, duplicates included. */
  taps: number;
  /** Distinct taps the validators recorded (`--taps`): `taps` − `duplicates`. */
  uniqueTaps: number;
  heartbeats: number;
  duplicates: number;
  malformed: Record<MalformedKind, number>;
  /** Taps whose tappedAt is > 10 min after, or > 7 days before, their message timestamp. */
  drift: number;
  /** Taps reusing an earlier seq of their validator with another card (counter reset). */
  resets: number;
  /** Distinct taps first uploaded after the service day ended (D+1 00:00+03:00). */
  late: number;
  /** Distinct taps first uploaded after a tap of the same validator with a higher seq (resets aside). */
  outOfOrder: number;
  validators: number;
  /** Distinct card numbers tapped. */
  cards: number;
  transfers: number;
  registryRows: number;
  expected: {
    /** Distinct valid taps the ingest stores (all of service day D). */
    stored: number;
    /** Messages the ingest recognises as repeats of a stored tap. */
    duplicates: number;
    deadLettered: DeadLetterCounts;
    /** Stored taps whose card had a match at tappedAt in the registry file written beside. */
    matched: number;
    unmatched: number;
    /** Stored taps the validator rejected (`result` REJECTED). */
    rejected: number;
  };
};
