import type { Pool, PoolClient } from 'pg';
import { withTransaction } from '../transaction';

/**
 * The per-offset records of the ingest (SPEC §2: every message read is exactly one stored tap,
 * duplicate, dead letter or heartbeat), read back by Kafka coordinates. Each of the four tables
 * is indexed by (topic, partition, offset), so a committed range is walked with index scans.
 */

/** Offsets [from, to) of one partition: `to` is exclusive. */
export type OffsetRange = { partition: number; from: number; to: number };

export type RecordKind = 'tap' | 'duplicate' | 'dead-letter' | 'heartbeat';

export type RangeAccount = OffsetRange & {
  /** Offsets in the range (to − from). */
  messages: number;
  taps: number;
  duplicates: number;
  deadLettered: Record<string, number>;
  heartbeats: number;
  /** Offsets with no record at all, as inclusive [from, to] runs (capped at `gapLimit` runs). */
  unaccounted: [number, number][];
  unaccountedCount: number;
  /** Offsets with more than one record (should never happen), capped at `gapLimit`. */
  doubled: number[];
  doubledCount: number;
};

const RECORDS = `
  ranges as (select * from unnest($2::int4[], $3::int8[], $4::int8[]) as r(part, lo, hi)),
  recs as (
    select k.kafka_partition as part, k.kafka_offset as off, 'tap' as kind
    from ranges r join tap_keys k
      on k.topic = $1 and k.kafka_partition = r.part and k.kafka_offset >= r.lo and k.kafka_offset < r.hi
    union all
    select d.kafka_partition, d.kafka_offset, 'duplicate'
    from ranges r join duplicate_taps d
      on d.topic = $1 and d.kafka_partition = r.part and d.kafka_offset >= r.lo and d.kafka_offset < r.hi
    union all
    select l.kafka_partition, l.kafka_offset, 'dead-letter:' || l.reason
    from ranges r join dead_letters l
      on l.topic = $1 and l.kafka_partition = r.part and l.kafka_offset >= r.lo and l.kafka_offset < r.hi
    union all
    select h.kafka_partition, h.kafka_offset, 'heartbeat'
    from ranges r join heartbeat_log h
      on h.topic = $1 and h.kafka_partition = r.part and h.kafka_offset >= r.lo and h.kafka_offset < r.hi
  )`;

/**
 * Account for every offset of the given ranges of `topic`: counts by kind, the runs of offsets
 * with no record, and offsets with more than one. Read in one snapshot (repeatable read), so a
 * chunk committing meanwhile is seen whole or not at all.
 */
export async function accountOffsets(
  db: Pool | PoolClient,
  topic: string,
  ranges: OffsetRange[],
  options: { gapLimit?: number; countsOnly?: boolean } = {},
): Promise<RangeAccount[]> {
  const wanted = ranges.filter((r) => r.to > r.from);
  const accounts = new Map<number, RangeAccount>(
    ranges.map((r) => [
      r.partition,
      {
        ...r,
        messages: Math.max(0, r.to - r.from),
        taps: 0,
        duplicates: 0,
        deadLettered: {},
        heartbeats: 0,
        unaccounted: [],
        unaccountedCount: 0,
        doubled: [],
        doubledCount: 0,
      },
    ]),
  );
  if (wanted.length === 0) return [...accounts.values()];
  const params = [topic, wanted.map((r) => r.partition), wanted.map((r) => r.from), wanted.map((r) => r.to)];
  const limit = options.gapLimit ?? 1000;
  const run = async (client: Pool | PoolClient) => {
    if (!options.countsOnly) await countKinds(client);
    await countShape(client);
  };
  const countKinds = async (client: Pool | PoolClient) => {
    const kinds = await client.query<{ part: number; kind: string; n: string }>(
      `with ${RECORDS} select part, kind, count(*) as n from recs group by part, kind`,
      params,
    );
    for (const row of kinds.rows) {
      const a = accounts.get(row.part);
      if (!a) continue;
      const n = Number(row.n);
      if (row.kind === 'tap') a.taps += n;
      else if (row.kind === 'duplicate') a.duplicates += n;
      else if (row.kind === 'heartbeat') a.heartbeats += n;
      else {
        const reason = row.kind.slice('dead-letter:'.length);
        a.deadLettered[reason] = (a.deadLettered[reason] ?? 0) + n;
      }
    }
  };
  const countShape = async (client: Pool | PoolClient) => {
    const shape = await client.query<{ part: number; distinct_offsets: string; doubled: string }>(
      `with ${RECORDS}, per_offset as (select part, off, count(*) as c from recs group by part, off)
       select part, count(*) as distinct_offsets, count(*) filter (where c > 1) as doubled
       from per_offset group by part`,
      params,
    );
    const short: number[] = [];
    const twice: number[] = [];
    for (const a of accounts.values()) a.unaccountedCount = a.messages;
    for (const row of shape.rows) {
      const a = accounts.get(row.part);
      if (!a) continue;
      a.unaccountedCount = a.messages - Number(row.distinct_offsets);
      a.doubledCount = Number(row.doubled);
    }
    for (const a of accounts.values()) {
      if (a.unaccountedCount > 0) short.push(a.partition);
      if (a.doubledCount > 0) twice.push(a.partition);
    }
    if (short.length > 0 && !options.countsOnly) {
      // Runs of missing offsets: between consecutive recorded offsets (and the range's edges).
      const gaps = await client.query<{ part: number; gap_from: string; gap_to: string }>(
        `with ${RECORDS},
         offs as (select distinct part, off from recs union all select part, lo - 1 from ranges),
         g as (select o.part, o.off + 1 as gap_from,
                      coalesce(lead(o.off) over (partition by o.part order by o.off), r.hi) - 1 as gap_to
               from offs o join ranges r on r.part = o.part)
         select part, gap_from, gap_to from g
         where gap_to >= gap_from and part = any($5::int4[])
         order by part, gap_from limit $6`,
        [...params, short, limit],
      );
      for (const row of gaps.rows) {
        accounts.get(row.part)?.unaccounted.push([Number(row.gap_from), Number(row.gap_to)]);
      }
    }
    if (twice.length > 0 && !options.countsOnly) {
      const doubled = await client.query<{ part: number; off: string }>(
        `with ${RECORDS}
         select part, off from recs where part = any($5::int4[])
         group by part, off having count(*) > 1 order by part, off limit $6`,
        [...params, twice, limit],
      );
      for (const row of doubled.rows) accounts.get(row.part)?.doubled.push(Number(row.off));
    }
  };
  if ('release' in db) await run(db);
  else await withTransaction(db, run, 'begin isolation level repeatable read read only');
  return [...accounts.values()].sort((a, b) => a.partition - b.partition);
}

/**
 * The offset ranges that carried something of service day D, per partition of `topic`: from the
 * lowest to the highest offset of any record of D (its taps, duplicates, dead letters and
 * heartbeats). Between those two, every offset must have a record of SOME day: the ingest reads
 * a partition in order, so a record at an offset means everything before it was handled.
 */
export async function dayOffsetRanges(
  client: Pool | PoolClient,
  topic: string,
  day: string,
): Promise<OffsetRange[]> {
  const { rows } = await client.query<{ part: number; lo: string; hi: string }>(
    `select part, min(lo) as lo, max(hi) as hi from (
       -- boardings carries no topic: one database serves one taps topic (its tap_keys say which).
       select kafka_partition as part, min(kafka_offset) as lo, max(kafka_offset) as hi
       from boardings where service_day = $2::date group by kafka_partition
       union all
       select kafka_partition, min(kafka_offset), max(kafka_offset) from duplicate_taps
       where topic = $1 and service_day = $2::date group by kafka_partition
       union all
       select kafka_partition, min(kafka_offset), max(kafka_offset) from dead_letters
       where topic = $1 and service_day = $2::date group by kafka_partition
       union all
       select kafka_partition, min(kafka_offset), max(kafka_offset) from heartbeat_log
       where topic = $1 and service_day = $2::date group by kafka_partition
     ) s group by part order by part`,
    [topic, day],
  );
  return rows.map((r) => ({ partition: r.part, from: Number(r.lo), to: Number(r.hi) + 1 }));
}

/** Of the taps stored from these ranges, how many were matched to a card holder at tappedAt. */
export async function countMatchedTaps(
  db: Pool | PoolClient,
  topic: string,
  ranges: OffsetRange[],
): Promise<number> {
  const wanted = ranges.filter((r) => r.to > r.from);
  if (wanted.length === 0) return 0;
  // Each range walks the offset index (a LATERAL subquery kept as such by OFFSET 0), each tap
  // probes its boardings row by primary key (a correlated subquery, run once a row). As a plain
  // join, once tap_keys had statistics, the planner hashed ALL of tap_keys and the day's
  // boardings (parallel seq scans) to count a second's worth of offsets (~47 k on a 1 M-tap
  // day): 0.54 s a reading, taken every second by each ingest process, against 0.09 s this way
  // (0.11 s as a second LATERAL join, which the planner wraps in a cache that never hits).
  const { rows } = await db.query<{ n: string }>(
    `select count(*) filter (where (
              select b.match_id is not null from boardings b
              where b.service_day = k.service_day and b.tapped_at = k.tapped_at
                and b.validator_id = k.validator_id and b.seq = k.seq)) as n
     from unnest($2::int4[], $3::int8[], $4::int8[]) as r(part, lo, hi)
     cross join lateral (
       select k.service_day, k.tapped_at, k.validator_id, k.seq from tap_keys k
       where k.topic = $1 and k.kafka_partition = r.part and k.kafka_offset >= r.lo and k.kafka_offset < r.hi
       offset 0) k`,
    [topic, wanted.map((r) => r.partition), wanted.map((r) => r.from), wanted.map((r) => r.to)],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The records of one chunk's offsets, when every one of them has exactly one. */
export type ChunkRecords = {
  taps: number;
  duplicates: number;
  deadLettered: Record<string, number>;
  heartbeats: number;
};

/**
 * The records of the offsets [from, to] (inclusive) of one partition of `topic`, or null unless
 * each of the `messages` offsets read there has exactly one. One query over the four offset
 * indexes: what lets the ingest tell a chunk it already stored (a replay, a chunk read again
 * after a crash before its commit) without judging and sending every message again.
 */
export async function recordsOfChunk(
  db: Pool | PoolClient,
  topic: string,
  chunk: { partition: number; from: number; to: number; messages: number },
): Promise<ChunkRecords | null> {
  const { rows } = await db.query<{ kind: string; n: number; offsets: number }>(
    `with recs as (
       select kafka_offset as off, 'tap' as kind from tap_keys
       where topic = $1 and kafka_partition = $2 and kafka_offset between $3 and $4
       union all
       select kafka_offset, 'duplicate' from duplicate_taps
       where topic = $1 and kafka_partition = $2 and kafka_offset between $3 and $4
       union all
       select kafka_offset, 'dead-letter:' || reason from dead_letters
       where topic = $1 and kafka_partition = $2 and kafka_offset between $3 and $4
       union all
       select kafka_offset, 'heartbeat' from heartbeat_log
       where topic = $1 and kafka_partition = $2 and kafka_offset between $3 and $4)
     select kind, count(*)::int as n, (select count(distinct off) from recs)::int as offsets
     from recs group by kind`,
    [topic, chunk.partition, chunk.from, chunk.to],
  );
  // Offsets with no message (a compacted or transactional topic) never have a record, so as
  // many distinct offsets as messages (every row carries the same count), and no more records,
  // means one record each.
  if (rows[0]?.offsets !== chunk.messages) return null;
  let total = 0;
  const records: ChunkRecords = { taps: 0, duplicates: 0, deadLettered: {}, heartbeats: 0 };
  for (const row of rows) {
    total += row.n;
    if (row.kind === 'tap') records.taps = row.n;
    else if (row.kind === 'duplicate') records.duplicates = row.n;
    else if (row.kind === 'heartbeat') records.heartbeats = row.n;
    else records.deadLettered[row.kind.slice('dead-letter:'.length)] = row.n;
  }
  return total === chunk.messages ? records : null;
}
