import type { PoolClient } from 'pg';

/**
 * The ingest's bulk write path: one batch of classified messages in the caller's transaction,
 * with `unnest` arrays (one round trip per step, whatever the batch size). Idempotent: storing
 * the same batch again changes nothing and reports every tap as already stored.
 */

export type TapRow = {
  validatorId: string;
  seq: number;
  serviceDay: string;
  cardNo: string;
  /** epoch ms */
  tappedAt: number;
  mode: string;
  lineCode: string;
  vehicleId: string | null;
  stopCode: string | null;
  result: string;
  rejectReason: string | null;
  partition: number;
  offset: number;
  /** Kafka message timestamp, epoch ms */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
};

/** A heartbeat (SPEC §2) with its message's Kafka coordinates: every one is logged (accounting). */
export type HeartbeatRow = {
  validatorId: string;
  lastSeq: number;
  /** epoch ms */
  at: number;
  partition: number;
  offset: number;
  /** Kafka message timestamp, epoch ms */
  timestamp: number;
};

export type DeadLetterRow = {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  reason: string;
  detail: string;
  validatorId: string | null;
  seq: number | null;
  serviceDay: string;
};

export type StoreResult = {
  stored: number;
  matched: number;
  duplicates: number;
  /** Messages whose own tap is already stored (a replay, or a batch retried after a crash). */
  alreadyStored: number;
  deadLettered: Record<string, number>;
  heartbeats: number;
  /** Service days that received new taps. */
  days: string[];
  /** Days whose partition this transaction ensured: pass to `rememberPartitions` once committed. */
  partitionsEnsured: string[];
};

const iso = (ms: number) => new Date(ms).toISOString();
const keyOf = (t: { validatorId: string; seq: number }) => `${t.validatorId}\u0000${t.seq}`;

type Stored = { cardNo: string; tappedAt: number; partition: number; offset: number };

/**
 * Day partitions of `boardings` known to exist, per process, so a partition is looked up once a
 * day rather than once a batch. It must reflect COMMITTED state only: a partition created inside
 * a transaction that rolled back does not exist. (It once did not: a failed chunk left its day
 * here, and every retry of that day then failed with "no partition of relation boardings found
 * for row", stopping the ingest.) `storeTapBatch` reports the days it ensured in its
 * transaction; the caller remembers them after COMMIT, and forgets all on that error.
 */
const knownPartitions = new Set<string>();

/** After COMMIT of the transaction that ran `storeTapBatch`: its partitions now exist for everyone. */
export function rememberPartitions(days: readonly string[]): void {
  for (const d of days) knownPartitions.add(d);
}

/** The memo disagrees with the database (a partition dropped by retention, or by hand): start over. */
export function forgetPartitions(): void {
  knownPartitions.clear();
}

export async function storeTapBatch(
  client: PoolClient,
  batch: { topic: string; taps: TapRow[]; heartbeats: HeartbeatRow[]; deadLetters: DeadLetterRow[] },
): Promise<StoreResult> {
  let partitionsEnsured: string[] = [];
  const deadLetters = [...batch.deadLetters];
  const duplicates: TapRow[] = [];
  let alreadyStored = 0;

  // First occurrence of each key in this batch is the candidate; the rest are judged after.
  const first = new Map<string, TapRow>();
  const repeats: TapRow[] = [];
  for (const t of batch.taps) {
    if (first.has(keyOf(t))) repeats.push(t);
    else first.set(keyOf(t), t);
  }
  const candidates = [...first.values()];

  const inserted = new Set<string>();
  if (candidates.length > 0) {
    const res = await client.query<{ validator_id: string; seq: string }>(
      `insert into tap_keys (topic, validator_id, seq, service_day, card_no, tapped_at, kafka_partition, kafka_offset)
       select $8, * from unnest($1::text[], $2::int8[], $3::date[], $4::text[], $5::timestamptz[], $6::int4[], $7::int8[])
       on conflict do nothing
       returning validator_id, seq`,
      [
        candidates.map((t) => t.validatorId),
        candidates.map((t) => t.seq),
        candidates.map((t) => t.serviceDay),
        candidates.map((t) => t.cardNo),
        candidates.map((t) => iso(t.tappedAt)),
        candidates.map((t) => t.partition),
        candidates.map((t) => t.offset),
        batch.topic,
      ],
    );
    for (const r of res.rows) inserted.add(`${r.validator_id}\u0000${Number(r.seq)}`);
  }

  // The stored version of every key that was already there.
  const winners = new Map<string, Stored>();
  for (const t of candidates) {
    if (inserted.has(keyOf(t))) {
      winners.set(keyOf(t), {
        cardNo: t.cardNo,
        tappedAt: t.tappedAt,
        partition: t.partition,
        offset: t.offset,
      });
    }
  }
  const existingKeys = [...first.values(), ...repeats].filter((t) => !inserted.has(keyOf(t)));
  if (existingKeys.length > 0) {
    const res = await client.query<{
      validator_id: string;
      seq: string;
      card_no: string;
      tapped_at: Date;
      kafka_partition: number;
      kafka_offset: string;
    }>(
      `select k.validator_id, k.seq, k.card_no, k.tapped_at, k.kafka_partition, k.kafka_offset
       from tap_keys k join unnest($1::text[], $2::int8[]) as u(v, s) on k.validator_id = u.v and k.seq = u.s`,
      [existingKeys.map((t) => t.validatorId), existingKeys.map((t) => t.seq)],
    );
    for (const r of res.rows) {
      winners.set(`${r.validator_id}\u0000${Number(r.seq)}`, {
        cardNo: r.card_no,
        tappedAt: r.tapped_at.getTime(),
        partition: r.kafka_partition,
        offset: Number(r.kafka_offset),
      });
    }
  }
  const judge = (t: TapRow) => {
    const w = winners.get(keyOf(t));
    if (!w) throw new Error('tap key neither inserted nor found');
    if (w.partition === t.partition && w.offset === t.offset) {
      alreadyStored++;
    } else if (w.cardNo === t.cardNo && w.tappedAt === t.tappedAt) {
      duplicates.push(t);
    } else {
      // A reset counter: the first arrival is kept, this one is recorded, never overwritten.
      deadLetters.push({
        topic: batch.topic,
        partition: t.partition,
        offset: t.offset,
        timestamp: t.timestamp,
        key: t.key,
        value: t.value,
        reason: 'SEQ_CONFLICT',
        detail: `seq ${t.seq} of ${t.validatorId} is already stored with another card or instant (offset ${w.partition}/${w.offset})`,
        validatorId: t.validatorId,
        seq: t.seq,
        serviceDay: t.serviceDay,
      });
    }
  };
  for (const t of candidates) if (!inserted.has(keyOf(t))) judge(t);
  for (const t of repeats) judge(t);

  const fresh = candidates.filter((t) => inserted.has(keyOf(t)));
  let matched = 0;
  const days = [...new Set(fresh.map((t) => t.serviceDay))];
  if (fresh.length > 0) {
    const missing = days.filter((d) => !knownPartitions.has(d));
    if (missing.length > 0) {
      await client.query('select ensure_boardings_partition(d) from unnest($1::date[]) d', [missing]);
      partitionsEnsured = missing;
    }
    // The as-of join (SPEC §3): the live match of the card whose [valid_from, valid_to) holds
    // tapped_at, found through matches_card_asof_idx.
    const res = await client.query<{ stored: number; matched: number }>(
      `with ins as (
         insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id,
                                stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         select u.day, u.vid, u.seq, u.card, u.at, u.mode, u.line, u.veh, u.stop, u.res, u.rr,
                (select m.id from cards c join matches m on m.card_id = c.id
                  where c.card_no = u.card and m.retracted_at is null and m.valid_from <= u.at
                    and (m.valid_to is null or m.valid_to > u.at)
                  order by m.valid_from desc limit 1),
                u.part, u.off, u.ts
         from unnest($1::date[], $2::text[], $3::int8[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::int4[], $13::int8[], $14::timestamptz[])
              as u(day, vid, seq, card, at, mode, line, veh, stop, res, rr, part, off, ts)
         returning match_id)
       select count(*)::int as stored, count(match_id)::int as matched from ins`,
      [
        fresh.map((t) => t.serviceDay),
        fresh.map((t) => t.validatorId),
        fresh.map((t) => t.seq),
        fresh.map((t) => t.cardNo),
        fresh.map((t) => iso(t.tappedAt)),
        fresh.map((t) => t.mode),
        fresh.map((t) => t.lineCode),
        fresh.map((t) => t.vehicleId),
        fresh.map((t) => t.stopCode),
        fresh.map((t) => t.result),
        fresh.map((t) => t.rejectReason),
        fresh.map((t) => t.partition),
        fresh.map((t) => t.offset),
        fresh.map((t) => iso(t.timestamp)),
      ],
    );
    matched = res.rows[0]?.matched ?? 0;
    await client.query(
      `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
       select vid, day, min(seq), max(seq), count(*), max(at)
       from unnest($1::text[], $2::date[], $3::int8[], $4::timestamptz[]) as u(vid, day, seq, at)
       group by vid, day
       on conflict (validator_id, service_day) do update set
         min_seq = least(validator_days.min_seq, excluded.min_seq),
         max_seq = greatest(validator_days.max_seq, excluded.max_seq),
         tap_count = validator_days.tap_count + excluded.tap_count,
         last_tapped_at = greatest(validator_days.last_tapped_at, excluded.last_tapped_at)`,
      [
        fresh.map((t) => t.validatorId),
        fresh.map((t) => t.serviceDay),
        fresh.map((t) => t.seq),
        fresh.map((t) => iso(t.tappedAt)),
      ],
    );
  }

  if (duplicates.length > 0) {
    await client.query(
      `insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
       select $1, * from unnest($2::int4[], $3::int8[], $4::text[], $5::int8[], $6::date[])
       on conflict do nothing`,
      [
        batch.topic,
        duplicates.map((t) => t.partition),
        duplicates.map((t) => t.offset),
        duplicates.map((t) => t.validatorId),
        duplicates.map((t) => t.seq),
        duplicates.map((t) => t.serviceDay),
      ],
    );
  }

  const deadLettered: Record<string, number> = {};
  if (deadLetters.length > 0) {
    await client.query(
      `insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value,
                                 reason, detail, validator_id, seq, service_day)
       select * from unnest($1::text[], $2::int4[], $3::int8[], $4::timestamptz[], $5::bytea[], $6::bytea[],
                            $7::text[], $8::text[], $9::text[], $10::int8[], $11::date[])
       on conflict do nothing`,
      [
        deadLetters.map((d) => d.topic),
        deadLetters.map((d) => d.partition),
        deadLetters.map((d) => d.offset),
        deadLetters.map((d) => iso(d.timestamp)),
        deadLetters.map((d) => d.key),
        deadLetters.map((d) => d.value),
        deadLetters.map((d) => d.reason),
        deadLetters.map((d) => d.detail),
        deadLetters.map((d) => d.validatorId),
        deadLetters.map((d) => d.seq),
        deadLetters.map((d) => d.serviceDay),
      ],
    );
    for (const d of deadLetters) deadLettered[d.reason] = (deadLettered[d.reason] ?? 0) + 1;
  }

  if (batch.heartbeats.length > 0) {
    const hb = batch.heartbeats;
    // Every heartbeat is logged by its coordinates (accounting); only those logged now move the
    // validator's latest, so a replay changes nothing. The latest only ever grows: a heartbeat
    // with a lower lastSeq (a device reset) stays in the log but never lowers what completeness
    // uses. Its `at` passed the clock rules, so it cannot claim an upload from the future.
    await client.query(
      `with logged as (
         insert into heartbeat_log (topic, kafka_partition, kafka_offset, kafka_timestamp, validator_id, last_seq, at, service_day)
         select $1, u.part, u.off, u.ts, u.vid, u.ls, u.at, (u.at at time zone 'Europe/Istanbul')::date
         from unnest($2::int4[], $3::int8[], $4::timestamptz[], $5::text[], $6::int8[], $7::timestamptz[])
              as u(part, off, ts, vid, ls, at)
         on conflict do nothing
         returning validator_id, last_seq, at)
       insert into validator_heartbeats (validator_id, last_seq, at)
       select validator_id, max(last_seq), max(at) from logged group by validator_id
       on conflict (validator_id) do update set
         last_seq = greatest(validator_heartbeats.last_seq, excluded.last_seq),
         at = greatest(validator_heartbeats.at, excluded.at)`,
      [
        batch.topic,
        hb.map((h) => h.partition),
        hb.map((h) => h.offset),
        hb.map((h) => iso(h.timestamp)),
        hb.map((h) => h.validatorId),
        hb.map((h) => h.lastSeq),
        hb.map((h) => iso(h.at)),
      ],
    );
  }

  return {
    stored: fresh.length,
    matched,
    duplicates: duplicates.length,
    alreadyStored,
    deadLettered,
    heartbeats: batch.heartbeats.length,
    days,
    partitionsEnsured,
  };
}
