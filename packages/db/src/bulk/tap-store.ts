import type { PoolClient } from 'pg';
import { BinaryArrayWriter } from './binary-arrays';

/**
 * The ingest's bulk write path: one batch of classified messages in the caller's transaction,
 * in two statements over binary `unnest` arrays (the keys, then everything else; a third only to
 * read back keys stored before, or for a new day's partition). Idempotent: storing the same
 * batch again changes nothing and reports every tap as already stored.
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

/** How one tap of the batch stands against the winner of its key (SPEC §2). */
type Kind = 'stored' | 'already' | 'duplicate' | 'conflict';

/** The first arrival of a key stored by an earlier transaction, as `tap_keys` holds it. */
type Winner = { card: string; atMs: number; partition: number; offset: number };

/**
 * Step 1 of a batch: of the batch's taps, the first arrival of each key (`$9`, flags) goes into
 * `tap_keys` (the identity of a tap across all days) unless the key is stored already. It says
 * how many it inserted and, only when a key was stored already, which first arrivals it skipped
 * (places in the batch, from 1).
 *
 * The columns are unnested in the select list, not in FROM: a function in FROM is first copied
 * whole into a tuplestore of its own, one per column, and read back; in the select list each
 * array is walked in step with the others (the same rows: the arrays are of one length). That
 * cut the backend's CPU by ~10 % a tap (both statements, chunks alternated on one backend).
 */
const INSERT_KEYS = `
with ins as (
  insert into tap_keys (topic, validator_id, seq, service_day, card_no, tapped_at, kafka_partition, kafka_offset)
  select $1, vid, seq, day, card, timestamptz 'epoch' + at_ms * interval '1 ms', part, off
  from (select unnest($2::text[]) as vid, unnest($3::int8[]) as seq, unnest($4::date[]) as day,
               unnest($5::text[]) as card, unnest($6::int8[]) as at_ms, unnest($7::int4[]) as part,
               unnest($8::int8[]) as off, unnest($9::bool[]) as first) f
  where first
  on conflict do nothing
  returning validator_id as vid, seq),
n as (select count(*)::int as inserted from ins)
select inserted,
       case when inserted < $10 then
         (select array_agg(f.ord) from unnest($2::text[], $3::int8[], $9::bool[]) with ordinality as f(vid, seq, first, ord)
          where f.first and not exists (select 1 from ins where ins.vid = f.vid and ins.seq = f.seq))
       end as skipped
from n`;

/**
 * The stored winners of keys the batch did not insert: an earlier transaction's (a replay, a
 * reset counter), seen as committed now (read committed: a concurrent insert of the same key
 * was waited for by the insert above). Instants as exact epoch milliseconds.
 */
const READ_WINNERS = `
select k.validator_id as vid, k.seq::text as seq, k.card_no as card,
       trim_scale(extract(epoch from k.tapped_at) * 1000)::text as at_ms,
       k.kafka_partition as part, k.kafka_offset::text as off
from unnest($1::text[], $2::int8[]) as f(vid, seq)
join tap_keys k on k.validator_id = f.vid and k.seq = f.seq`;

/**
 * Step 2, one statement: the new taps (`$44`, flags over the batch's taps) into `boardings` with
 * the as-of match (SPEC §3: the live match of the card whose [valid_from, valid_to) holds
 * tapped_at, one index probe of cards and of matches per tap, the latest valid_from if two),
 * `validator_days` merged with the batch's own per validator and day, duplicates, dead letters
 * (conflicts included) and heartbeats.
 */
const STORE_REST = `
with b as (
  insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id,
                         stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
  select t.day, t.vid, t.seq, t.card, t.at, t.mode, t.line, t.veh, t.stop, t.res, t.rr, m.id, t.part, t.off,
         timestamptz 'epoch' + t.ts_ms * interval '1 ms'
  from (select u.*, timestamptz 'epoch' + u.at_ms * interval '1 ms' as at
        from (select unnest($2::text[]) as vid, unnest($3::int8[]) as seq, unnest($4::date[]) as day,
                     unnest($5::text[]) as card, unnest($6::int8[]) as at_ms, unnest($7::text[]) as mode,
                     unnest($8::text[]) as line, unnest($9::text[]) as veh, unnest($10::text[]) as stop,
                     unnest($11::text[]) as res, unnest($12::text[]) as rr, unnest($13::int4[]) as part,
                     unnest($14::int8[]) as off, unnest($15::int8[]) as ts_ms, unnest($44::bool[]) as keep) u
        where u.keep) t
  left join lateral (
    select m.id from cards c join matches m on m.card_id = c.id
    where c.card_no = t.card and m.retracted_at is null and m.valid_from <= t.at
      and (m.valid_to is null or m.valid_to > t.at)
    order by m.valid_from desc limit 1) m on true
  returning match_id),
vd as (
  insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
  select vid, day, min_seq, max_seq, n, timestamptz 'epoch' + last_ms * interval '1 ms'
  from unnest($16::text[], $17::date[], $18::int8[], $19::int8[], $20::int8[], $21::int8[])
       as v(vid, day, min_seq, max_seq, n, last_ms)
  on conflict (validator_id, service_day) do update set
    min_seq = least(validator_days.min_seq, excluded.min_seq),
    max_seq = greatest(validator_days.max_seq, excluded.max_seq),
    tap_count = validator_days.tap_count + excluded.tap_count,
    last_tapped_at = greatest(validator_days.last_tapped_at, excluded.last_tapped_at)),
dup as (
  insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
  select $1, * from unnest($22::int4[], $23::int8[], $24::text[], $25::int8[], $26::date[])
  on conflict do nothing),
dl as (
  insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value,
                            reason, detail, validator_id, seq, service_day)
  select * from unnest($27::text[], $28::int4[], $29::int8[], $30::timestamptz[], $31::bytea[], $32::bytea[],
                       $33::text[], $34::text[], $35::text[], $36::int8[], $37::date[])
  on conflict do nothing),
-- Every heartbeat is logged by its coordinates (accounting); only those logged now move the
-- validator's latest, so a replay changes nothing. The latest only ever grows: a heartbeat
-- with a lower lastSeq (a device reset) stays in the log but never lowers what completeness
-- uses. Its "at" passed the clock rules, so it cannot claim an upload from the future.
logged as (
  insert into heartbeat_log (topic, kafka_partition, kafka_offset, kafka_timestamp, validator_id, last_seq, at, service_day)
  select $1, h.part, h.off, h.ts, h.vid, h.ls, h.at, (h.at at time zone 'Europe/Istanbul')::date
  from unnest($38::int4[], $39::int8[], $40::timestamptz[], $41::text[], $42::int8[], $43::timestamptz[])
       as h(part, off, ts, vid, ls, at)
  on conflict do nothing
  returning validator_id, last_seq, at),
latest as (
  insert into validator_heartbeats (validator_id, last_seq, at)
  select validator_id, max(last_seq), max(at) from logged group by validator_id
  on conflict (validator_id) do update set
    last_seq = greatest(validator_heartbeats.last_seq, excluded.last_seq),
    at = greatest(validator_heartbeats.at, excluded.at))
select (select count(*) from b)::int as stored, (select count(match_id) from b)::int as matched`;

const keyOf = (t: { validatorId: string; seq: number }) => `${t.seq}\u0000${t.validatorId}`;

/**
 * Store one batch in the caller's transaction (read committed). The judgement is the SPEC's, made
 * here over the batch's own keys and the winners the database holds:
 *
 * 1. The first arrival in the batch (its order) of every key is inserted into `tap_keys` unless
 *    the key is stored already (`INSERT_KEYS`). Those it skipped are read back
 *    (`READ_WINNERS`): stored by an earlier transaction, their first arrival stands.
 * 2. Each tap is judged against its key's winner: the winner itself (`stored` when inserted now,
 *    `already` when a replay of the same message stored it before), a `duplicate` (same card
 *    and instant), or a `conflict` (a reset counter: dead-lettered with its raw bytes).
 * 3. One statement (`STORE_REST`) writes what follows: the new taps into `boardings` with their
 *    as-of match, `validator_days`, duplicates, dead letters, heartbeats.
 *
 * Storing the same batch again inserts nothing and reports every tap as already stored.
 * (Until 2026-12-07 this was one statement judging in SQL; the planner, blind to the batch's
 * size, paid for sorts and joins the batch does not need: see docs/ingest.md.)
 */
export async function storeTapBatch(
  client: PoolClient,
  batch: { topic: string; taps: TapRow[]; heartbeats: HeartbeatRow[]; deadLetters: DeadLetterRow[] },
): Promise<StoreResult> {
  const { topic, taps, heartbeats } = batch;
  const n = taps.length;

  // For each tap, the place in the batch of its key's first arrival.
  const firstOf = new Map<string, number>();
  const first = new Int32Array(n);
  const isFirst = new BinaryArrayWriter('bool', n * 5);
  for (let i = 0; i < n; i++) {
    const k = keyOf(taps[i] as TapRow);
    const f = firstOf.get(k);
    if (f === undefined) firstOf.set(k, i);
    first[i] = f ?? i;
    isFirst.bool(f === undefined);
  }
  // The batch's columns, encoded once for both statements.
  const columns = tapColumns(taps);

  // The first arrivals whose key was stored before (places in the batch), and those keys' winners.
  let skipped: Set<number> | null = null;
  const prior = new Map<number, Winner>();
  if (n > 0) {
    const ins = await client.query<{ inserted: number; skipped: string[] | null }>(INSERT_KEYS, [
      topic,
      ...KEY_COLUMNS.map((c) => columns[c] as Buffer),
      isFirst.finish(),
      firstOf.size,
    ]);
    const row = ins.rows[0];
    if (row === undefined) throw new Error('the key insert returned no row');
    if (row.inserted < firstOf.size) {
      skipped = new Set((row.skipped ?? []).map((ord) => Number(ord) - 1));
      await readWinners(client, taps, skipped, firstOf, prior);
    }
  }

  const keep = new BinaryArrayWriter('bool', n * 5);
  let stored: TapRow[] = [];
  const duplicates: TapRow[] = [];
  const conflicts: DeadLetterRow[] = [];
  let already = 0;
  if (firstOf.size === n && skipped === null) {
    // Every tap is the first arrival of a new key: all stored (the common case).
    stored = taps;
    for (let i = 0; i < n; i++) keep.bool(true);
  } else {
    for (let i = 0; i < n; i++) {
      const t = taps[i] as TapRow;
      const f = first[i] as number;
      // The winner of the key: stored before (read back), or its first arrival in this batch.
      let kind: Kind;
      let winner: { partition: number; offset: number };
      if (skipped?.has(f)) {
        const w = prior.get(f);
        if (w === undefined) throw new Error('tap key neither inserted nor found');
        kind = judge(t, w);
        winner = w;
      } else {
        const w = taps[f] as TapRow;
        kind = f === i ? 'stored' : sameTap(t, w.cardNo, w.tappedAt);
        winner = w;
      }
      keep.bool(kind === 'stored');
      if (kind === 'stored') stored.push(t);
      else if (kind === 'already') already++;
      else if (kind === 'duplicate') duplicates.push(t);
      else {
        conflicts.push({
          topic,
          partition: t.partition,
          offset: t.offset,
          timestamp: t.timestamp,
          key: t.key,
          value: t.value,
          reason: 'SEQ_CONFLICT',
          detail: `seq ${t.seq} of ${t.validatorId} is already stored with another card or instant (offset ${winner.partition}/${winner.offset})`,
          validatorId: t.validatorId,
          seq: t.seq,
          serviceDay: t.serviceDay,
        });
      }
    }
  }

  const partitionsEnsured = await ensurePartitions(client, stored);
  const deadLetters = conflicts.length > 0 ? [...batch.deadLetters, ...conflicts] : batch.deadLetters;
  let matched = 0;
  if (stored.length + duplicates.length + deadLetters.length + heartbeats.length > 0) {
    const res = await client.query<{ stored: number; matched: number }>(STORE_REST, [
      topic,
      ...columns,
      ...validatorDayColumns(stored),
      ...duplicateColumns(duplicates),
      ...deadLetterColumns(deadLetters),
      ...heartbeatColumns(heartbeats),
      keep.finish(),
    ]);
    const r = res.rows[0];
    if (r === undefined || r.stored !== stored.length)
      throw new Error('the batch statement stored another count of taps');
    matched = r.matched;
  }

  const deadLettered: Record<string, number> = {};
  for (const d of deadLetters) deadLettered[d.reason] = (deadLettered[d.reason] ?? 0) + 1;
  return {
    stored: stored.length,
    matched,
    duplicates: duplicates.length,
    alreadyStored: already,
    deadLettered,
    heartbeats: heartbeats.length,
    days: [...new Set(stored.map((t) => t.serviceDay))].sort(),
    partitionsEnsured,
  };
}

/** SPEC §2: the first arrival of a (validatorId, seq) is kept; the others are judged against it. */
function judge(t: TapRow, w: Winner): Kind {
  if (w.partition === t.partition && w.offset === t.offset) return 'already';
  return sameTap(t, w.card, w.atMs);
}

/** A later arrival of a key: the same tap sent again, or another under a reused seq. */
function sameTap(t: TapRow, card: string, atMs: number): 'duplicate' | 'conflict' {
  return t.cardNo === card && t.tappedAt === atMs ? 'duplicate' : 'conflict';
}

/** The stored winners of the skipped first arrivals (places in `taps`), by place. */
async function readWinners(
  client: PoolClient,
  taps: TapRow[],
  skipped: Set<number>,
  firstOf: Map<string, number>,
  into: Map<number, Winner>,
): Promise<void> {
  const vid = new BinaryArrayWriter('text', skipped.size * 20);
  const seq = new BinaryArrayWriter('int8', skipped.size * 12);
  for (const i of skipped) {
    const t = taps[i] as TapRow;
    vid.text(t.validatorId);
    seq.int(t.seq);
  }
  const res = await client.query<{
    vid: string;
    seq: string;
    card: string;
    at_ms: string;
    part: number;
    off: string;
  }>(READ_WINNERS, [vid.finish(), seq.finish()]);
  for (const r of res.rows) {
    const place = firstOf.get(keyOf({ validatorId: r.vid, seq: Number(r.seq) }));
    if (place === undefined) continue;
    into.set(place, {
      card: r.card,
      // Exact: epoch ms are safe integers (an instant stored with finer precision stays fractional, so it differs).
      atMs: Number(r.at_ms),
      partition: r.part,
      offset: Number(r.off),
    });
  }
}

/**
 * Create the day partitions the batch's new taps need before the statement that inserts them
 * (a partition cannot be created by the statement that routes rows into it). Only days not in
 * the memo are looked at, and only of taps stored now, so replaying old messages does not bring
 * back a partition retention dropped.
 */
async function ensurePartitions(client: PoolClient, stored: TapRow[]): Promise<string[]> {
  const unknown = new Set<string>();
  for (const t of stored) if (!knownPartitions.has(t.serviceDay)) unknown.add(t.serviceDay);
  if (unknown.size === 0) return [];
  const days = [...unknown].sort();
  await client.query('select ensure_boardings_partition(d) from unnest($1::date[]) as d', [days]);
  return days;
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

/** Of `tapColumns`, those `INSERT_KEYS` takes, in its order: vid, seq, day, card, at, part, off. */
const KEY_COLUMNS = [0, 1, 2, 3, 4, 11, 12] as const;

/** What the new taps add to `validator_days`, one row per validator and day (in key order). */
function validatorDayColumns(stored: TapRow[]): Buffer[] {
  type Day = { vid: string; day: string; min: number; max: number; n: number; last: number };
  const byKey = new Map<string, Day>();
  for (const t of stored) {
    const k = `${t.validatorId}\u0000${t.serviceDay}`;
    const d = byKey.get(k);
    if (d === undefined) {
      byKey.set(k, { vid: t.validatorId, day: t.serviceDay, min: t.seq, max: t.seq, n: 1, last: t.tappedAt });
    } else {
      if (t.seq < d.min) d.min = t.seq;
      if (t.seq > d.max) d.max = t.seq;
      if (t.tappedAt > d.last) d.last = t.tappedAt;
      d.n++;
    }
  }
  const days = [...byKey.values()].sort((a, b) =>
    a.vid < b.vid ? -1 : a.vid > b.vid ? 1 : a.day < b.day ? -1 : 1,
  );
  const vid = new BinaryArrayWriter('text', days.length * 20);
  const day = new BinaryArrayWriter('date', days.length * 8);
  const min = new BinaryArrayWriter('int8', days.length * 12);
  const max = new BinaryArrayWriter('int8', days.length * 12);
  const n = new BinaryArrayWriter('int8', days.length * 12);
  const last = new BinaryArrayWriter('int8', days.length * 12);
  for (const d of days) {
    vid.text(d.vid);
    day.date(d.day);
    min.int(d.min);
    max.int(d.max);
    n.int(d.n);
    last.int(d.last);
  }
  return [vid, day, min, max, n, last].map((c) => c.finish());
}

function duplicateColumns(duplicates: TapRow[]): unknown[] {
  return [
    duplicates.map((d) => d.partition),
    duplicates.map((d) => d.offset),
    duplicates.map((d) => d.validatorId),
    duplicates.map((d) => d.seq),
    duplicates.map((d) => d.serviceDay),
  ];
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
