import { maskPersonalData } from '@boarding/contracts/mask';
import type { Pool } from 'pg';

/**
 * Reading the dead-letter store (SPEC §2) for people: raw bytes may hold anything a device or a
 * person typed, so every text shown is masked (`maskPersonalData`); the raw value is cut to
 * 2 KiB. The store itself keeps the bytes as they came.
 */

type Row = {
  topic: string;
  kafka_partition: number;
  kafka_offset: string;
  kafka_timestamp: Date;
  reason: string;
  detail: string;
  validator_id: string | null;
  seq: string | null;
  service_day: string;
};

export type DeadLetterSummary = {
  /** `partition:offset` */
  id: string;
  topic: string;
  kafkaTimestamp: string;
  serviceDay: string;
  reason: string;
  validatorId: string | null;
  seq: number | null;
  detail: string;
};

export type DeadLetterList = { byReason: Record<string, number>; letters: DeadLetterSummary[] };

/** Dead letters newest first (by Kafka time), with the counts by reason of the same filter. */
export async function listDeadLetters(
  pool: Pool,
  filter: { day?: string; reason?: string; limit: number },
): Promise<DeadLetterList> {
  const { rows } = await pool.query<Row>(
    `select topic, kafka_partition, kafka_offset, kafka_timestamp, reason, detail, validator_id, seq, service_day::text
     from dead_letters
     where ($1::date is null or service_day = $1::date) and ($2::text is null or reason = $2)
     order by kafka_timestamp desc, kafka_partition, kafka_offset limit $3`,
    [filter.day ?? null, filter.reason ?? null, filter.limit],
  );
  const counts = await pool.query<{ reason: string; n: number }>(
    `select reason, count(*)::int as n from dead_letters
     where ($1::date is null or service_day = $1::date) group by reason order by reason`,
    [filter.day ?? null],
  );
  return {
    byReason: Object.fromEntries(counts.rows.map((r) => [r.reason, r.n])),
    letters: rows.map((r) => ({
      id: `${r.kafka_partition}:${r.kafka_offset}`,
      topic: r.topic,
      kafkaTimestamp: r.kafka_timestamp.toISOString(),
      serviceDay: r.service_day,
      reason: r.reason,
      validatorId: r.validator_id,
      seq: r.seq === null ? null : Number(r.seq),
      detail: maskPersonalData(r.detail),
    })),
  };
}

export type DeadLetterDetail = {
  id: string;
  topic: string;
  kafkaTimestamp: string;
  serviceDay: string;
  reason: string;
  detail: string;
  key: string | null;
  /** Size of the raw value; at most 2 KiB of it is shown. */
  bytes: number;
  value: string;
};

/** Shown at most of a raw value; the rest stays in the store. */
export const SHOWN_BYTES = 2048;

/** One dead letter by its coordinates, masked; null when there is none. */
export async function showDeadLetter(
  pool: Pool,
  at: { topic: string; partition: number; offset: number },
): Promise<DeadLetterDetail | null> {
  const { rows } = await pool.query<Row & { message_key: Buffer | null; raw_value: Buffer | null }>(
    `select *, service_day::text from dead_letters where topic = $1 and kafka_partition = $2 and kafka_offset = $3`,
    [at.topic, at.partition, at.offset],
  );
  const r = rows[0];
  if (!r) return null;
  const raw = r.raw_value ?? Buffer.alloc(0);
  return {
    id: `${at.partition}:${at.offset}`,
    topic: r.topic,
    kafkaTimestamp: r.kafka_timestamp.toISOString(),
    serviceDay: r.service_day,
    reason: r.reason,
    detail: maskPersonalData(r.detail),
    key: r.message_key ? maskPersonalData(r.message_key.toString('utf8')) : null,
    bytes: raw.length,
    value: maskPersonalData(raw.subarray(0, SHOWN_BYTES).toString('utf8')),
  };
}
