import { randomUUID } from 'node:crypto';
import { DAY_MS, isCalendarDay, serviceDayStartMs } from '@boarding/contracts/time';
import { accountOffsets } from '@boarding/db/bulk/offset-records';
import type { Logger } from '@boarding/logger/logger';
import type { Admin, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { type Classified, classifyBatch, type IngestMessage } from './classify';
import { addCounts } from './counts';
import { classifyOptionsFor } from './ingest-consumer';
import { type ChunkStoreContext, StoreAbortedError, storeMessages } from './store-chunk';

/** Offsets [from, to) of one partition: `to` is exclusive. */
export type PartitionRange = { partition: number; from: number; to: number };

/** Where in the topic the taps of one service day can be, captured once at the start. */
export type ReplayWindow = {
  /** The Kafka timestamps (epoch ms) the offsets were looked up by; `toMs` null: "the end now". */
  fromMs: number;
  toMs: number | null;
  partitions: PartitionRange[];
};

export type ReplayProgress = {
  /** Messages of the window handled so far, and the window's size in offsets. */
  read: number;
  total: number;
  /** Newly stored taps so far (every day). */
  stored: number;
  partitionsDone: number;
  partitions: number;
};

export type ReplayDayOptions = {
  kafka: Kafka;
  pool: Pool;
  topic: string;
  /** The service day, YYYY-MM-DD (Europe/Istanbul). */
  day: string;
  /** The ingest's MAX_TAP_AGE_DAYS: the window's length and the clock rule, as in the first pass. */
  maxTapAgeDays: number;
  /** Messages per database transaction (the ingest's chunk size). */
  chunkSize: number;
  logger: Logger;
  /** Partitions stored at once; the pool needs this many connections (plus one). */
  concurrency?: number;
  now?: () => number;
  onProgress?: (progress: ReplayProgress) => void;
};

export type ReplayDayResult = {
  day: string;
  topic: string;
  window: ReplayWindow;
  /** Messages read inside the window, whatever they held. */
  messagesRead: number;
  /** Messages that are valid taps of the day (repeats of one tap included). */
  tapsOfDay: number;
  /** Taps of the day that were not in the store when the replay read them, and now are. */
  storedOfDay: number;
  /** Newly stored taps of every day in the window (late taps of earlier days included). */
  stored: number;
  /** Of those, matched to a card holder at tappedAt. */
  matched: number;
  /** Messages whose tap was already stored from this very message (the usual case in a replay). */
  alreadyStored: number;
  /** Second uploads of a stored tap (counted again by a replay; recorded once). */
  duplicates: number;
  /** Messages judged dead letters, by reason (recorded once, however often replayed). */
  deadLettered: Record<string, number>;
  heartbeats: number;
  /** Chunks retried after a transient database error. */
  retries: number;
  seconds: number;
};

/** The day is not a calendar date as YYYY-MM-DD. */
export class ReplayInputError extends Error {
  readonly code = 'REPLAY_INPUT_INVALID';
  readonly retryable = false;
}

/** The replay's consumer stopped for good before the window was read. */
export class ReplayConsumerError extends Error {
  readonly code = 'REPLAY_CONSUMER_FAILED';
  readonly retryable = true;
}

/** Epoch ms of 00:00 Europe/Istanbul on `day`; a day that is not a date is the user's error. */
export function istanbulDayStart(day: string): number {
  if (!isCalendarDay(day)) {
    throw new ReplayInputError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
  return serviceDayStartMs(day);
}

/**
 * The offsets to read for day D, per partition, looked up by Kafka timestamp (= upload time):
 * - from: the first message at or after the start of D, less the 10 minutes a device clock may
 *   run ahead (SPEC §2): a tap stamped 00:05 of D by a clock 8 minutes fast can be uploaded at
 *   23:57 of D-1 and is still accepted as a tap of D, so the window must include it.
 * - to: the first message at or after the end of D + MAX_TAP_AGE_DAYS (a later upload of a tap
 *   of D is dead-lettered as too old, so it can hold no tap of D); when that moment is still
 *   to come, the partition's end now.
 */
export async function replayWindow(
  admin: Admin,
  topic: string,
  day: string,
  options: { maxTapAgeDays: number; now?: number },
): Promise<ReplayWindow> {
  const { maxFutureMs } = classifyOptionsFor(topic, options.maxTapAgeDays);
  const fromMs = istanbulDayStart(day) - maxFutureMs;
  const endMs = istanbulDayStart(day) + DAY_MS + options.maxTapAgeDays * DAY_MS;
  const toMs = endMs > (options.now ?? Date.now()) ? null : endMs;
  const [starts, ends] = await Promise.all([
    admin.fetchTopicOffsetsByTimestamp(topic, fromMs),
    toMs === null
      ? admin.fetchTopicOffsets(topic).then((o) => o.map((p) => ({ partition: p.partition, offset: p.high })))
      : // kafkajs answers the high watermark for a partition with no message at or after toMs.
        admin.fetchTopicOffsetsByTimestamp(topic, toMs),
  ]);
  const endOf = new Map(ends.map((e) => [e.partition, Number(e.offset)] as const));
  const partitions = starts
    .map((s) => {
      const from = Number(s.offset);
      // Timestamps are set by the producer and may step back a little; never a negative range.
      const to = Math.max(from, endOf.get(s.partition) ?? from);
      return { partition: s.partition, from, to };
    })
    .sort((a, b) => a.partition - b.partition);
  return { fromMs, toMs, partitions };
}

/**
 * Re-read the taps of service day D from Kafka and store them again through the ingest's own
 * classify → store path (`storeMessages`), which is idempotent by (validatorId, seq) and
 * by Kafka coordinates: what is stored stays as it is, what went missing is stored again.
 *
 * Reads with a throwaway consumer group that seeks to the window and never commits, so the
 * ingest group's offsets are never touched and the group leaves nothing behind on the broker.
 * Everything in the window is fed through, taps of other days included (normally already
 * stored: counted, not changed). Returns once every partition reached its end offset.
 */
export async function reingestDay(options: ReplayDayOptions): Promise<ReplayDayResult> {
  const started = Date.now();
  const { pool, topic, day, logger } = options;
  const window = await lookUpWindow(options);
  const result: ReplayDayResult = {
    day,
    topic,
    window,
    messagesRead: 0,
    tapsOfDay: 0,
    storedOfDay: 0,
    stored: 0,
    matched: 0,
    alreadyStored: 0,
    duplicates: 0,
    deadLettered: {},
    heartbeats: 0,
    retries: 0,
    seconds: 0,
  };
  const retries = {
    inc: () => {
      result.retries++;
    },
  };
  const classify = classifyOptionsFor(topic, options.maxTapAgeDays);
  const storeContext: ChunkStoreContext = { pool, topic, logger, classify, retries };
  await readWindow(options, window, {
    stored: () => result.stored,
    handle: async (chunk, classified, signals) => {
      const ofDay = firstKeysOfDay(classified.taps, day);
      const missing = ofDay.length === 0 ? 0 : ofDay.length - (await countStoredKeys(pool, ofDay));
      const stored = await storeMessages(storeContext, chunk, signals, classified);
      result.messagesRead += chunk.length;
      result.tapsOfDay += classified.taps.filter((t) => t.serviceDay === day).length;
      result.storedOfDay += missing;
      result.stored += stored.stored;
      result.matched += stored.matched;
      result.alreadyStored += stored.alreadyStored;
      result.duplicates += stored.duplicates;
      result.heartbeats += stored.heartbeats;
      addCounts(result.deadLettered, stored.deadLettered);
    },
  });
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** What `reingestDay` would do, read without writing (`boarding replay --dry-run`). */
export type ReplayPlanResult = {
  day: string;
  topic: string;
  window: ReplayWindow;
  messagesRead: number;
  /** Messages that are valid taps of the day (repeats of one tap included). */
  tapsOfDay: number;
  /** Taps of the day missing from the store: a replay would store them again. */
  missingOfDay: number;
  /** Of those, taps of a card matched at tappedAt in the registry as it stands now: new file rows. */
  missingOfDayMatched: number;
  /** Taps of every day in the window missing from the store (those of the day included). */
  missing: number;
  /** Messages of the window a replay would judge dead letters, by reason (recorded or not). */
  deadLetters: Record<string, number>;
  heartbeats: number;
  /** Offsets of the window with no record at all (tap, duplicate, dead letter, heartbeat). */
  unrecorded: number;
  seconds: number;
};

/**
 * A dry run of `reingestDay`: reads the same window with the same throwaway group and judges each
 * message the same way, but only compares with the store: which taps of the day (and of other days)
 * a replay would store again, how many of them would become rows of the day's file, and how many
 * offsets have no record yet. Writes nothing to PostgreSQL and commits nothing to Kafka.
 */
export async function planReingestDay(options: ReplayDayOptions): Promise<ReplayPlanResult> {
  const started = Date.now();
  const { pool, topic, day } = options;
  const window = await lookUpWindow(options);
  const result: ReplayPlanResult = {
    day,
    topic,
    window,
    messagesRead: 0,
    tapsOfDay: 0,
    missingOfDay: 0,
    missingOfDayMatched: 0,
    missing: 0,
    deadLetters: {},
    heartbeats: 0,
    unrecorded: 0,
    seconds: 0,
  };
  // A key missing from the store counts once however often the window repeats it: a replay
  // stores its first arrival and records the others as duplicates.
  const counted = new Set<string>();
  await readWindow(options, window, {
    stored: () => result.missing,
    handle: async (chunk, classified) => {
      const missing = await missingKeys(pool, firstKeys(classified.taps), day);
      for (const m of missing) {
        const key = `${m.validatorId}\u0000${m.seq}`;
        if (counted.has(key)) continue;
        counted.add(key);
        result.missing++;
        if (m.ofDay) {
          result.missingOfDay++;
          if (m.matched) result.missingOfDayMatched++;
        }
      }
      result.messagesRead += chunk.length;
      result.tapsOfDay += classified.taps.filter((t) => t.serviceDay === day).length;
      result.heartbeats += classified.heartbeats.length;
      for (const d of classified.deadLetters)
        result.deadLetters[d.reason] = (result.deadLetters[d.reason] ?? 0) + 1;
    },
  });
  const accounts = await accountOffsets(pool, topic, window.partitions, { countsOnly: true });
  result.unrecorded = accounts.reduce((a, r) => a + r.unaccountedCount, 0);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** The day's window, looked up once; a malformed day is refused before anything connects. */
async function lookUpWindow(options: ReplayDayOptions): Promise<ReplayWindow> {
  istanbulDayStart(options.day);
  const admin = options.kafka.admin();
  await admin.connect();
  try {
    return await replayWindow(admin, options.topic, options.day, {
      maxTapAgeDays: options.maxTapAgeDays,
      now: (options.now ?? Date.now)(),
    });
  } finally {
    await admin.disconnect();
  }
}

type ChunkSignals = { heartbeat: () => Promise<void>; aborted: () => boolean };

type WindowHandler = {
  /** One chunk of the window, classified; counts what it did. Throws to stop the read. */
  handle: (chunk: IngestMessage[], classified: Classified, signals: ChunkSignals) => Promise<void>;
  /** The figure shown as `stored` in the progress. */
  stored: () => number;
};

/**
 * Read every partition of the window once, in chunks of `chunkSize`, through `handler`. Reads
 * with a throwaway consumer group that seeks to the window and never commits, so the ingest
 * group's offsets are never touched and the group leaves nothing behind on the broker. Returns
 * once every partition reached its end offset.
 */
async function readWindow(
  options: ReplayDayOptions,
  window: ReplayWindow,
  handler: WindowHandler,
): Promise<void> {
  const { kafka, topic, day } = options;
  const partitions = window.partitions;
  const pending = partitions.filter((p) => p.to > p.from);
  const total = pending.reduce((a, p) => a + (p.to - p.from), 0);
  const done = new Set<number>();
  let read = 0;
  const onProgress = () =>
    options.onProgress?.({
      read,
      total,
      stored: handler.stored(),
      partitionsDone: done.size,
      partitions: pending.length,
    });
  onProgress();
  if (pending.length === 0) return;
  const idle = partitions.filter((p) => p.to <= p.from).map((p) => p.partition);
  const classifyOptions = classifyOptionsFor(topic, options.maxTapAgeDays);
  const end = new Map(pending.map((p) => [p.partition, p.to] as const));
  // The next offset to handle per partition: where a (re)joined consumer is sent back to.
  const next = new Map(pending.map((p) => [p.partition, p.from] as const));

  const consumer = kafka.consumer({
    groupId: `boarding-replay-${day}-${randomUUID()}`,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
    // As the ingest: a fetch response is held whole while its batches are stored.
    maxBytesPerPartition: 1 << 20,
    maxBytes: 8 << 20,
  });

  let finish: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // Settled before anyone awaits it when the consumer fails while still joining.
  finished.catch(() => undefined);
  let failed = false;
  const stopWith = (err: Error) => {
    failed = true;
    fail(err);
  };

  const advance = (partition: number, to: number) => {
    const limit = end.get(partition);
    if (limit === undefined || done.has(partition)) return;
    next.set(partition, Math.max(next.get(partition) ?? 0, Math.min(to, limit)));
    if ((next.get(partition) ?? 0) >= limit) {
      done.add(partition);
      // Stop fetching it; the messages after `to` are not ours to store.
      consumer.pause([{ topic, partitions: [partition] }]);
      onProgress();
      if (done.size === pending.length) finish();
    }
  };

  // Sent to the window on every join: the first, and any after a rebalance or a restart of the
  // consumer by kafkajs (a group that never commits would otherwise start from the end).
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // Partitions with nothing to read would otherwise be fetched (and ignored) in a loop.
    if (idle.length > 0) consumer.pause([{ topic, partitions: idle }]);
    for (const p of pending) {
      if (done.has(p.partition)) consumer.pause([{ topic, partitions: [p.partition] }]);
      else consumer.seek({ topic, partition: p.partition, offset: String(next.get(p.partition) ?? p.from) });
    }
  });
  // A batch of control records only (transactions, compaction) never reaches eachBatch, yet it
  // moves the partition on: without this a window ending in one would never be seen to end.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0) advance(payload.partition, Number(payload.lastOffset) + 1);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart)
      stopWith(new ReplayConsumerError(`replay consumer crashed: ${payload.error.message}`));
  });

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const partition = batch.partition;
    const limit = end.get(partition);
    if (failed || limit === undefined || done.has(partition)) return;
    const from = next.get(partition) ?? 0;
    const messages: IngestMessage[] = [];
    for (const m of batch.messages) {
      const offset = Number(m.offset);
      if (offset >= from && offset < limit) {
        messages.push({ partition, offset, timestamp: Number(m.timestamp), key: m.key, value: m.value });
      }
    }
    try {
      for (let i = 0; i < messages.length; i += options.chunkSize) {
        if (!isRunning() || isStale() || failed) return;
        const chunk = messages.slice(i, i + options.chunkSize);
        const last = chunk[chunk.length - 1];
        if (!last) continue;
        await handler.handle(chunk, classifyBatch(chunk, classifyOptions), {
          heartbeat,
          aborted: () => !isRunning() || isStale() || failed,
        });
        read += chunk.length;
        // Moves this consumer's fetch position only: the group commits nothing.
        resolveOffset(String(last.offset));
        next.set(partition, last.offset + 1);
        onProgress();
        // A heartbeat refused by a rebalance is not a failure: isStale() stops this batch at the
        // next chunk, and the GROUP_JOIN handler sends the consumer back to `next`.
        await heartbeat().catch(() => undefined);
      }
      if (!isRunning() || isStale() || failed) return;
      // The whole batch is handled, including records kafkajs filtered out (control records).
      const lastOffset = batch.lastOffset();
      resolveOffset(lastOffset);
      advance(partition, Number(lastOffset) + 1);
    } catch (err) {
      // A rebalance while the database was away: the GROUP_JOIN handler sends us back to `next`.
      if (err instanceof StoreAbortedError && !failed) return;
      // The command fails with this error; kafkajs must not retry the batch behind its back.
      stopWith(err instanceof Error ? err : new Error(String(err)));
    }
  };

  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.concurrency ?? 4,
      eachBatch,
    });
    await finished;
  } finally {
    await consumer.disconnect();
  }
}

type TapKey = { validatorId: string; seq: number; serviceDay: string };

/**
 * The first occurrence in the chunk of each key: exactly the taps the store inserts when their key
 * is missing (a repeat or a conflict is judged against the first).
 */
function firstKeys<T extends TapKey>(taps: T[]): T[] {
  const seen = new Set<string>();
  const keys: T[] = [];
  for (const t of taps) {
    const key = `${t.validatorId}\u0000${t.seq}`;
    if (seen.has(key)) continue;
    seen.add(key);
    keys.push(t);
  }
  return keys;
}

/** Of the first keys, the taps of `day`. */
function firstKeysOfDay(taps: TapKey[], day: string): TapKey[] {
  return firstKeys(taps).filter((t) => t.serviceDay === day);
}

type MissingKey = { validatorId: string; seq: number; ofDay: boolean; matched: boolean };

/**
 * The taps whose key the idempotency ledger (tap_keys) does not hold, each with whether it is a
 * tap of `day` and whether its card has a match at tappedAt in the registry as it stands now
 * (the export's own join: such a tap, once stored, is a row of the day's file).
 */
async function missingKeys(
  pool: Pool,
  taps: (TapKey & { cardNo: string; tappedAt: number })[],
  day: string,
): Promise<MissingKey[]> {
  if (taps.length === 0) return [];
  const { rows } = await pool.query<{ v: string; s: string; of_day: boolean; matched: boolean }>(
    `select u.v, u.s::text as s, u.d = $5::date as of_day,
            exists (select 1 from cards c join matches m on m.card_id = c.id and m.retracted_at is null
                     and m.valid_from <= u.at and (m.valid_to is null or m.valid_to > u.at)
                    where c.card_no = u.card) as matched
     from unnest($1::text[], $2::int8[], $3::date[], $4::text[], $6::timestamptz[]) as u(v, s, d, card, at)
     where not exists (select 1 from tap_keys k where k.validator_id = u.v and k.seq = u.s)`,
    [
      taps.map((t) => t.validatorId),
      taps.map((t) => t.seq),
      taps.map((t) => t.serviceDay),
      taps.map((t) => t.cardNo),
      day,
      taps.map((t) => new Date(t.tappedAt).toISOString()),
    ],
  );
  return rows.map((r) => ({
    validatorId: r.v,
    seq: Number(r.s),
    ofDay: r.of_day,
    matched: r.of_day && r.matched,
  }));
}

/** How many of these taps the idempotency ledger (tap_keys) already holds. */
async function countStoredKeys(pool: Pool, keys: TapKey[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n
     from tap_keys k join unnest($1::text[], $2::int8[]) as u(v, s) on k.validator_id = u.v and k.seq = u.s`,
    [keys.map((k) => k.validatorId), keys.map((k) => k.seq)],
  );
  return rows[0]?.n ?? 0;
}
