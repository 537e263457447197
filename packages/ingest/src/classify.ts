import { parseValidatorMessage, serviceDayOf, type TapV1 } from '@boarding/contracts/tap';
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
  /** SPEC §2: a tap more than this far AFTER its message timestamp is dead-lettered. */
  maxFutureMs: number;
  /** SPEC §2: a tap more than this far BEFORE its message timestamp is dead-lettered. */
  maxAgeMs: number;
};

export type Classified = { taps: TapRow[]; heartbeats: HeartbeatRow[]; deadLetters: DeadLetterRow[] };

/**
 * Judge one batch of messages without touching the database: parse against the contracts,
 * apply the clock rules against the Kafka timestamp (never the wall clock, so a replay judges
 * a tap exactly as the first pass did), and turn everything unusable into a dead letter.
 * Repeats inside the batch are left to the store, which sees them in order with the rest.
 */
export function classifyBatch(messages: IngestMessage[], options: ClassifyOptions): Classified {
  const taps: TapRow[] = [];
  const heartbeats: HeartbeatRow[] = [];
  const deadLetters: DeadLetterRow[] = [];
  for (const m of messages) {
    const parsed = parseValidatorMessage(m.value);
    if (!parsed.ok) {
      deadLetters.push(letter(options.topic, m, parsed.reason, parsed.detail));
      continue;
    }
    if (parsed.kind === 'heartbeat') {
      const h = parsed.heartbeat;
      heartbeats.push({ validatorId: h.validatorId, lastSeq: h.lastSeq, at: h.atMs });
      continue;
    }
    const t = parsed.tap;
    const known = { validatorId: t.validatorId, seq: t.seq, serviceDay: serviceDayOf(t.tappedAtMs) };
    if (t.tappedAtMs > m.timestamp + options.maxFutureMs) {
      const minutes = Math.round((t.tappedAtMs - m.timestamp) / 60_000);
      deadLetters.push(
        letter(
          options.topic,
          m,
          'CLOCK_DRIFT_FUTURE',
          `tappedAt is ${minutes} min after the message timestamp`,
          known,
        ),
      );
      continue;
    }
    if (t.tappedAtMs < m.timestamp - options.maxAgeMs) {
      const days = ((m.timestamp - t.tappedAtMs) / 86_400_000).toFixed(1);
      deadLetters.push(
        letter(
          options.topic,
          m,
          'TAP_TOO_OLD',
          `tappedAt is ${days} days before the message timestamp`,
          known,
        ),
      );
      continue;
    }
    taps.push(tapRow(t, known.serviceDay, m));
  }
  return { taps, heartbeats, deadLetters };
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
function letter(
  topic: string,
  m: IngestMessage,
  reason: string,
  detail: string,
  known: { validatorId: string; seq: number; serviceDay: string } | undefined = undefined,
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
    validatorId: known?.validatorId ?? null,
    seq: known?.seq ?? null,
    serviceDay: known?.serviceDay ?? serviceDayOf(m.timestamp),
  };
}
