import { addDays, DAY_MS, MAX_CLOCK_AHEAD_MS, serviceDayStartMs } from '@boarding/contracts/time';
import { createKafka } from '@boarding/kafka/client';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import type { Admin } from 'kafkajs';

/**
 * What a consumer group has not read yet of the messages stamped before an instant (SPEC §5's
 * ingest gate): `messages` behind, and the Kafka timestamp of the oldest unread one.
 */
export type LagBefore = {
  messages: number;
  /** ISO 8601, or null when nothing stamped before the instant is unread. */
  oldestUnreadAt: string | null;
  partitions: { partition: number; committed: number; behind: number }[];
};

/**
 * Per partition: the first offset stamped at or after `beforeMs` (Kafka's offsets-for-times; the
 * high watermark when none is) minus where the group reads next (its committed offset, or the
 * log start when it never committed). Validators' gateways stamp in upload order, so the offsets
 * before that point are the messages stamped before the instant.
 *
 * The oldest unread timestamp is found without reading a message (which would need a consumer
 * and a group of its own): offsets-for-times at t (the first offset stamped at or after t) is at
 * or before the committed offset c exactly when the message at c is stamped at or after t, so
 * the largest such t, found by halving, is the timestamp of the message at c.
 */
export async function lagBefore(
  admin: Admin,
  options: { groupId: string; topic: string; beforeMs: number; lookBackMs: number },
): Promise<LagBefore> {
  const { groupId, topic, beforeMs } = options;
  const [ends, committed, atCutoff] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
    admin.fetchTopicOffsetsByTimestamp(topic, beforeMs),
  ]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const));
  const cutoff = new Map(atCutoff.map((p) => [p.partition, Number(p.offset)] as const));
  const partitions = ends
    .map((e) => {
      const next = Math.max(done.get(e.partition) ?? -1, Number(e.low));
      const end = Math.min(cutoff.get(e.partition) ?? Number(e.high), Number(e.high));
      return { partition: e.partition, committed: next, behind: Math.max(0, end - next) };
    })
    .sort((a, b) => a.partition - b.partition);
  const behind = partitions.filter((p) => p.behind > 0);
  const stamps = await Promise.all(
    behind.map((p) =>
      stampAt(admin, topic, p.partition, p.committed, beforeMs - options.lookBackMs, beforeMs),
    ),
  );
  const oldest = stamps.reduce<number | null>((a, t) => (a === null || t < a ? t : a), null);
  return {
    messages: behind.reduce((n, p) => n + p.behind, 0),
    oldestUnreadAt: oldest === null ? null : new Date(oldest).toISOString(),
    partitions,
  };
}

/**
 * The timestamp of the message at `offset` of one partition, known to lie in [fromMs, toMs):
 * the largest t with offsetForTime(t) ≤ offset. Clamped to fromMs when it is older still.
 */
async function stampAt(
  admin: Admin,
  topic: string,
  partition: number,
  offset: number,
  fromMs: number,
  toMs: number,
): Promise<number> {
  const offsetAt = async (t: number) => {
    const all = await admin.fetchTopicOffsetsByTimestamp(topic, t);
    return Number(all.find((p) => p.partition === partition)?.offset ?? Number.POSITIVE_INFINITY);
  };
  let lo = fromMs; // offsetAt(lo) ≤ offset is assumed (older than the look-back: reported as lo)
  let hi = toMs; // offsetAt(hi) > offset: the message at `offset` is stamped before toMs
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await offsetAt(mid)) <= offset) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * SPEC §5: the manifest's `stats.ingestBehind` of day D — what the ingest group has not read of
 * the messages stamped before the end of D plus the drift allowance (a tap of 23:59 may carry a
 * Kafka timestamp up to 10 minutes later). `messages` 0: the ingest has read everything of D.
 */
export type IngestBehind = { messages: number; oldestUnreadAt: string | null };

export type IngestBehindReader = {
  read: (day: string) => Promise<IngestBehind>;
  close: () => Promise<void>;
};

/** Messages stamped before this are read before D counts as complete. */
export function ingestCutoffMs(day: string): number {
  return serviceDayStartMs(addDays(day, 1)) + MAX_CLOCK_AHEAD_MS;
}

/** The ingest group's lag on day D's messages, read through `admin` (connected by the caller). */
async function readIngestBehind(
  admin: Admin,
  options: { groupId: string; topic: string },
  day: string,
): Promise<IngestBehind> {
  const lag = await lagBefore(admin, {
    ...options,
    beforeMs: ingestCutoffMs(day),
    // Messages stamped long before D hold no tap of D (older than MAX_TAP_AGE_DAYS): their stamp
    // is reported no older than this.
    lookBackMs: 31 * DAY_MS,
  });
  return { messages: lag.messages, oldestUnreadAt: lag.oldestUnreadAt };
}

/** A reading that takes longer (Kafka hung, brokers retried) fails: the caller counts it unknown. */
export const INGEST_BEHIND_TIMEOUT_MS = 10_000;

/**
 * A reader of the ingest gate with its own Kafka admin connection, made on first use and again
 * after a failure (Kafka away when a process starts must not keep it from starting: the reading
 * fails, and the caller decides what that means). A reading is bounded by `timeoutMs`
 * (INGEST_BEHIND_TIMEOUT_MS); one that overruns drops the connection. `close()` is idempotent.
 */
export function createIngestBehindReader(options: {
  brokers: string[];
  clientId: string;
  groupId: string;
  topic: string;
  logger?: Logger;
  timeoutMs?: number;
}): IngestBehindReader {
  const timeoutMs = options.timeoutMs ?? INGEST_BEHIND_TIMEOUT_MS;
  const kafka = createKafka({ brokers: options.brokers, clientId: options.clientId, logger: options.logger });
  // One connection shared by concurrent readings; forgotten after a failure, made again next time.
  let admin: Promise<Admin> | undefined;
  const forget = async (a: Promise<Admin>) => {
    if (admin === a) admin = undefined;
    await a.then((c) => c.disconnect()).catch(() => undefined);
  };
  const connect = async () => {
    const a = kafka.admin();
    await a.connect();
    return a;
  };
  return {
    async read(day) {
      admin ??= connect();
      const current = admin;
      const reading = current.then((a) => readIngestBehind(a, options, day));
      try {
        return await withTimeout(
          timeoutMs,
          reading,
          () => new Error(`no answer from Kafka within ${timeoutMs} ms reading the ingest group's lag`),
        );
      } catch (err) {
        await forget(current);
        throw err;
      }
    },
    async close() {
      if (admin) await forget(admin);
    },
  };
}
