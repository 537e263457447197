import type { PoolClient } from 'pg';
import { BinaryArrayWriter } from './binary-arrays';

/**
 * The ingest's bulk write path: one batch of classified messages in the caller's transaction,
 * in ONE statement over `unnest` arrays (a second only for a new day's partition or a reused
 * seq). Idempotent: storing the same batch again changes nothing and reports every tap as
 * already stored.
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

type Judgement = {
  stored: number;
  matched: number;
  already: number;
  duplicates: number;
  missing: number;
  days: string[] | null;
  conflict_ords: string[] | null;
  conflict_parts: number[] | null;
  conflict_offs: string[] | null;
};

/**
 * Every step of a batch as one data-modifying statement, so a chunk costs one round trip and
 * one plan instead of five. All its parts see the snapshot from before the statement: `ins`
 * adds the keys not stored yet (the first arrival of each key in the batch, by `ord`), `prior`
 * reads the others as earlier transactions stored them (one index probe each: a lateral join,
 * so the planner, blind to the batch's size, cannot choose to scan all of tap_keys), and the
 * winner of each key is whichever of the two has it. Each tap is then judged against its
 * winner as the SPEC says: the winner itself (new, or already stored by a replay of the same
 * message), a duplicate (same card and instant), or a conflict (a reset counter), returned for
 * the caller to dead-letter with the raw bytes only it holds. A key in neither was stored by a
 * concurrent transaction after the snapshot: the caller fails the batch, to be retried.
 *
 * The as-of join (SPEC §3), for the batch's new taps: the live match of the card whose
 * [valid_from, valid_to) holds tapped_at, one index probe of cards and of matches per tap. It
 * stays a lateral probe with the old statement's ORDER BY … LIMIT 1 (so the match chosen is
 * exactly the old one): a join over the chunk measured no faster (it probes the same indexes,
 * or hashes all of cards).
 */
const STORE_BATCH = `
with u as (
  select vid, seq, day, card, timestamptz 'epoch' + at_ms * interval '1 ms' as at, mode, line, veh, stop, res, rr,
         part, off, timestamptz 'epoch' + ts_ms * interval '1 ms' as ts, ord
  from unnest($2::text[], $3::int8[], $4::date[], $5::text[], $6::int8[], $7::text[], $8::text[],
              $9::text[], $10::text[], $11::text[], $12::text[], $13::int4[], $14::int8[], $15::int8[])
       with ordinality as u(vid, seq, day, card, at_ms, mode, line, veh, stop, res, rr, part, off, ts_ms, ord)),
firsts as (
  select distinct on (vid, seq) vid, seq, day, card, at, part, off from u order by vid, seq, ord),
ins as (
  insert into tap_keys (topic, validator_id, seq, service_day, card_no, tapped_at, kafka_partition, kafka_offset)
  select $1, vid, seq, day, card, at, part, off from firsts
  on conflict do nothing
  returning validator_id as vid, seq, card_no as card, tapped_at as at, kafka_partition as part, kafka_offset as off),
prior as (
  select k.* from firsts f
  cross join lateral (
    select k.validator_id as vid, k.seq, k.card_no as card, k.tapped_at as at, k.kafka_partition as part,
           k.kafka_offset as off
    from tap_keys k where k.validator_id = f.vid and k.seq = f.seq limit 1) k
  where not exists (select 1 from ins i where i.vid = f.vid and i.seq = f.seq)),
winners as (
  select vid, seq, card, at, part, off, true as fresh from ins
  union all
  select vid, seq, card, at, part, off, false from prior),
judged as (
  select u.*, w.part as wpart, w.off as woff,
         case when w.vid is null then 'missing'
              when w.part = u.part and w.off = u.off then case when w.fresh then 'stored' else 'already' end
              when w.card = u.card and w.at = u.at then 'duplicate'
              else 'conflict' end as kind
  from u left join winners w on w.vid = u.vid and w.seq = u.seq),
b as (
  insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id,
                         stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
  select j.day, j.vid, j.seq, j.card, j.at, j.mode, j.line, j.veh, j.stop, j.res, j.rr, m.id, j.part, j.off, j.ts
  from judged j
  left join lateral (
    select m.id from cards c join matches m on m.card_id = c.id
    where c.card_no = j.card and m.retracted_at is null and m.valid_from <= j.at
      and (m.valid_to is null or m.valid_to > j.at)
    order by m.valid_from desc limit 1) m on true
  where j.kind = 'stored'
  returning match_id, service_day),
vd as (
  insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
  select vid, day, min(seq), max(seq), count(*), max(at) from judged where kind = 'stored' group by vid, day
  on conflict (validator_id, service_day) do update set
    min_seq = least(validator_days.min_seq, excluded.min_seq),
    max_seq = greatest(validator_days.max_seq, excluded.max_seq),
    tap_count = validator_days.tap_count + excluded.tap_count,
    last_tapped_at = greatest(validator_days.last_tapped_at, excluded.last_tapped_at)),
dup as (
  insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
  select $1, part, off, vid, seq, day from judged where kind = 'duplicate'
  on conflict do nothing),
dl as (
  insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value,
                            reason, detail, validator_id, seq, service_day)
  select * from unnest($16::text[], $17::int4[], $18::int8[], $19::timestamptz[], $20::bytea[], $21::bytea[],
                       $22::text[], $23::text[], $24::text[], $25::int8[], $26::date[])
  on conflict do nothing),
-- Every heartbeat is logged by its coordinates (accounting); only those logged now move the
-- validator's latest, so a replay changes nothing. The latest only ever grows: a heartbeat
-- with a lower lastSeq (a device reset) stays in the log but never lowers what completeness
-- uses. Its "at" passed the clock rules, so it cannot claim an upload from the future.
logged as (
  insert into heartbeat_log (topic, kafka_partition, kafka_offset, kafka_timestamp, validator_id, last_seq, at, service_day)
  select $1, h.part, h.off, h.ts, h.vid, h.ls, h.at, (h.at at time zone 'Europe/Istanbul')::date
  from unnest($27::int4[], $28::int8[], $29::timestamptz[], $30::text[], $31::int8[], $32::timestamptz[])
       as h(part, off, ts, vid, ls, at)
  on conflict do nothing
  returning validator_id, last_seq, at),
latest as (
  insert into validator_heartbeats (validator_id, last_seq, at)
  select validator_id, max(last_seq), max(at) from logged group by validator_id
  on conflict (validator_id) do update set
    last_seq = greatest(validator_heartbeats.last_seq, excluded.last_seq),
    at = greatest(validator_heartbeats.at, excluded.at))
select
  (select count(*) from b)::int as stored,
  (select count(match_id) from b)::int as matched,
  (select array_agg(distinct to_char(service_day, 'YYYY-MM-DD')) from b) as days,
  count(*) filter (where kind = 'already')::int as already,
  count(*) filter (where kind = 'duplicate')::int as duplicates,
  count(*) filter (where kind = 'missing')::int as missing,
  array_agg(ord order by ord) filter (where kind = 'conflict') as conflict_ords,
  array_agg(wpart order by ord) filter (where kind = 'conflict') as conflict_parts,
  array_agg(woff order by ord) filter (where kind = 'conflict') as conflict_offs
from judged`;

const INSERT_DEAD_LETTERS = `
insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value,
                          reason, detail, validator_id, seq, service_day)
select * from unnest($1::text[], $2::int4[], $3::int8[], $4::timestamptz[], $5::bytea[], $6::bytea[],
                     $7::text[], $8::text[], $9::text[], $10::int8[], $11::date[])
on conflict do nothing`;

export async function storeTapBatch(
  client: PoolClient,
  batch: { topic: string; taps: TapRow[]; heartbeats: HeartbeatRow[]; deadLetters: DeadLetterRow[] },
): Promise<StoreResult> {
  const { topic, taps, heartbeats } = batch;
  const partitionsEnsured = await ensurePartitions(client, taps);
  const res = await client.query<Judgement>(STORE_BATCH, [
    topic,
    ...tapColumns(taps),
    ...deadLetterColumns(batch.deadLetters),
    ...heartbeatColumns(heartbeats),
  ]);
  const j = res.rows[0];
  if (j === undefined) throw new Error('the batch statement returned no row');
  if (j.missing > 0) throw new Error('tap key neither inserted nor found');

  // A reset counter: the first arrival is kept, this one is recorded, never overwritten.
  const conflicts: DeadLetterRow[] = [];
  const ords = j.conflict_ords ?? [];
  for (let i = 0; i < ords.length; i++) {
    const t = taps[Number(ords[i]) - 1];
    if (t === undefined) throw new Error('conflict outside the batch');
    conflicts.push({
      topic,
      partition: t.partition,
      offset: t.offset,
      timestamp: t.timestamp,
      key: t.key,
      value: t.value,
      reason: 'SEQ_CONFLICT',
      detail: `seq ${t.seq} of ${t.validatorId} is already stored with another card or instant (offset ${j.conflict_parts?.[i]}/${j.conflict_offs?.[i]})`,
      validatorId: t.validatorId,
      seq: t.seq,
      serviceDay: t.serviceDay,
    });
  }
  if (conflicts.length > 0) await client.query(INSERT_DEAD_LETTERS, deadLetterColumns(conflicts));

  const deadLettered: Record<string, number> = {};
  for (const d of batch.deadLetters) deadLettered[d.reason] = (deadLettered[d.reason] ?? 0) + 1;
  for (const d of conflicts) deadLettered[d.reason] = (deadLettered[d.reason] ?? 0) + 1;
  return {
    stored: j.stored,
    matched: j.matched,
    duplicates: j.duplicates,
    alreadyStored: j.already,
    deadLettered,
    heartbeats: heartbeats.length,
    days: j.days ?? [],
    partitionsEnsured,
  };
}

/**
 * Create the day partitions the batch's new taps need before the statement that inserts them
 * (a partition cannot be created by the statement that routes rows into it). Only days not in
 * the memo are looked at, and of those only the days of taps not stored yet, so replaying old
 * messages does not bring back a partition retention dropped.
 */
async function ensurePartitions(client: PoolClient, taps: TapRow[]): Promise<string[]> {
  const unknown = new Set<string>();
  for (const t of taps) if (!knownPartitions.has(t.serviceDay)) unknown.add(t.serviceDay);
  if (unknown.size === 0) return [];
  const vids: string[] = [];
  const seqs: number[] = [];
  const days: string[] = [];
  for (const t of taps) {
    if (!unknown.has(t.serviceDay)) continue;
    vids.push(t.validatorId);
    seqs.push(t.seq);
    days.push(t.serviceDay);
  }
  const res = await client.query<{ day: string }>(
    `select to_char(d.day, 'YYYY-MM-DD') as day, ensure_boardings_partition(d.day)
     from (select distinct u.day from unnest($1::text[], $2::int8[], $3::date[]) as u(vid, seq, day)
           where not exists (select 1 from tap_keys k where k.validator_id = u.vid and k.seq = u.seq)) d`,
    [vids, seqs, days],
  );
  return res.rows.map((r) => r.day);
}

/**
 * The batch's columns as binary arrays (binary-arrays.ts), built in one pass: PostgreSQL reads
 * them without parsing text, and no value needs quoting. (The driver's generic array encoder,
 * a closure and two regular expressions per element, cost ~7 µs a tap, as much as the
 * statement; array literals written here cost PostgreSQL ~1 µs a text element to parse, and
 * ISO instants more.) Instants go as epoch milliseconds, made timestamptz by the statement.
 */
function tapColumns(taps: TapRow[]): Buffer[] {
  const n = taps.length;
  const text = (bytesEach: number) => new BinaryArrayWriter('text', n * (4 + bytesEach));
  const vid = text(16);
  const seq = new BinaryArrayWriter('int8', n * 12);
  const day = new BinaryArrayWriter('date', n * 8);
  const card = text(20);
  const at = new BinaryArrayWriter('int8', n * 12);
  const mode = text(8);
  const line = text(8);
  const veh = text(16);
  const stop = text(16);
  const res = text(8);
  const rr = text(4);
  const part = new BinaryArrayWriter('int4', n * 8);
  const off = new BinaryArrayWriter('int8', n * 12);
  const ts = new BinaryArrayWriter('int8', n * 12);
  for (let i = 0; i < n; i++) {
    const t = taps[i] as TapRow;
    vid.text(t.validatorId);
    seq.int(t.seq);
    day.date(t.serviceDay);
    card.text(t.cardNo);
    at.int(t.tappedAt);
    mode.text(t.mode);
    line.text(t.lineCode);
    veh.text(t.vehicleId);
    stop.text(t.stopCode);
    res.text(t.result);
    rr.text(t.rejectReason);
    part.int(t.partition);
    off.int(t.offset);
    ts.int(t.timestamp);
  }
  return [vid, seq, day, card, at, mode, line, veh, stop, res, rr, part, off, ts].map((c) => c.finish());
}

function deadLetterColumns(letters: DeadLetterRow[]): unknown[] {
  return [
    letters.map((d) => d.topic),
    letters.map((d) => d.partition),
    letters.map((d) => d.offset),
    letters.map((d) => iso(d.timestamp)),
    letters.map((d) => d.key),
    letters.map((d) => d.value),
    letters.map((d) => d.reason),
    letters.map((d) => d.detail),
    letters.map((d) => d.validatorId),
    letters.map((d) => d.seq),
    letters.map((d) => d.serviceDay),
  ];
}

function heartbeatColumns(hb: HeartbeatRow[]): unknown[] {
  return [
    hb.map((h) => h.partition),
    hb.map((h) => h.offset),
    hb.map((h) => iso(h.timestamp)),
    hb.map((h) => h.validatorId),
    hb.map((h) => h.lastSeq),
    hb.map((h) => iso(h.at)),
  ];
}
