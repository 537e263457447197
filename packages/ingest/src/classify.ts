import type { ReasonCode } from '@boarding/contracts/reasons';
import { parseValidatorMessage, serviceDayOf, type TapV1 } from '@boarding/contracts/tap';
import { DAY_MS } from '@boarding/contracts/time';
import type { DeadLetterRow, HeartbeatRow, TapRow } from '@boarding/db/bulk/tap-store';

/** A Kafka message as the ingest sees it (kafkajs' fields, normalised). */
export type IngestMessage = {
  partition: number;
  offset: number;
  /** Kafka message timestamp, epoch ms: the clock every time rule is judged against. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
};

export type ClassifyOptions = {
  topic: string;
  /** SPEC §2: a tap (or heartbeat) more than this far AFTER its message timestamp is dead-lettered. */
  maxFutureMs: number;
  /** SPEC §2: a tap (or heartbeat) more than this far BEFORE its message timestamp is dead-lettered. */
  maxAgeMs: number;
};

export type Classified = { taps: TapRow[]; heartbeats: HeartbeatRow[]; deadLetters: DeadLetterRow[] };

/**
 * Judge one batch of messages without touching the database: parse against the contracts,
 * apply the clock rules to taps and heartbeats alike against the Kafka timestamp (never the
 * wall clock, so a replay judges a message exactly as the first pass did), and turn everything
 * unusable into a dead letter. Repeats inside the batch are left to the store, which sees them
 * in order with the rest.
 */
export function classifyBatch(messages: IngestMessage[], options: ClassifyOptions): Classified {
  const taps: TapRow[] = [];
  const heartbeats: HeartbeatRow[] = [];
  const deadLetters: DeadLetterRow[] = [];
  for (const m of messages) {
    const parsed = parseValidatorMessage(m.value);
    if (!parsed.ok) {
      deadLetters.push(
        letter(options.topic, m, parsed.reason, parsed.detail, null, null, serviceDayOf(m.timestamp)),
      );
      continue;
    }
    if (parsed.kind === 'heartbeat') {
      const h = parsed.heartbeat;
      // SPEC §2: heartbeats follow the taps' clock rules. Completeness takes a heartbeat's `at`
      // as proof the validator uploaded past a day's end, so a clock running ahead would close
      // days that are still open.
      const clock = judgeClock('at', h.atMs, m.timestamp, options);
      if (clock !== null) {
        deadLetters.push(
          letter(options.topic, m, clock.reason, clock.detail, h.validatorId, null, serviceDayOf(h.atMs)),
        );
        continue;
      }
      heartbeats.push({
        validatorId: h.validatorId,
        lastSeq: h.lastSeq,
        at: h.atMs,
        partition: m.partition,
        offset: m.offset,
        timestamp: m.timestamp,
      });
      continue;
    }
    const t = parsed.tap;
    const serviceDay = serviceDayOf(t.tappedAtMs);
    const clock = judgeClock('tappedAt', t.tappedAtMs, m.timestamp, options);
    if (clock !== null) {
      deadLetters.push(
        letter(options.topic, m, clock.reason, clock.detail, t.validatorId, t.seq, serviceDay),
      );
      continue;
    }
    taps.push(tapRow(t, serviceDay, m));
  }
  return { taps, heartbeats, deadLetters };
}

export type ClockVerdict = { reason: 'CLOCK_DRIFT_FUTURE' | 'TAP_TOO_OLD'; detail: string };

/**
 * SPEC §2's clock rules for the instant of `field`; null when it passes (the common case allocates
 * nothing). Exported so whatever judges messages without `classifyBatch` (the bench's day loader)
 * applies these rules rather than a copy of them.
 */
export function judgeClock(
  field: 'tappedAt' | 'at',
  instantMs: number,
  timestamp: number,
  options: ClassifyOptions,
): ClockVerdict | null {
  if (instantMs > timestamp + options.maxFutureMs) {
    const minutes = Math.round((instantMs - timestamp) / 60_000);
    return { reason: 'CLOCK_DRIFT_FUTURE', detail: `${field} is ${minutes} min after the message timestamp` };
  }
  if (instantMs < timestamp - options.maxAgeMs) {
    const days = ((timestamp - instantMs) / DAY_MS).toFixed(1);
    return { reason: 'TAP_TOO_OLD', detail: `${field} is ${days} days before the message timestamp` };
  }
  return null;
}

/** The row the store keeps of a valid tap of `serviceDay`, with its message's Kafka coordinates. */
export function tapRow(t: TapV1, serviceDay: string, m: IngestMessage): TapRow {
  return {
    validatorId: t.validatorId,
    seq: t.seq,
    serviceDay,
    cardNo: t.cardNo,
    tappedAt: t.tappedAtMs,
    mode: t.mode,
    lineCode: t.lineCode,
    vehicleId: t.vehicleId,
    stopCode: t.stopCode,
    result: t.result,
    rejectReason: t.rejectReason,
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
  };
}

// A plain function, not a closure made per message: this loop runs 2 M times a day, and a
// closure per iteration (plus the name tsx attaches to it) cost more than the JSON parsing.
// What is known of the message comes as plain arguments, so no object is built for it.
function letter(
  topic: string,
  m: IngestMessage,
  reason: ReasonCode,
  detail: string,
  validatorId: string | null,
  seq: number | null,
  serviceDay: string,
): DeadLetterRow {
  return {
    topic,
    partition: m.partition,
    offset: m.offset,
    timestamp: m.timestamp,
    key: m.key,
    value: m.value,
    reason,
    detail,
    validatorId,
    seq,
    serviceDay,
  };
}
