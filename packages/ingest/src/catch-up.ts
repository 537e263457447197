import { within } from '@boarding/lifecycle/time-limit';
import type { Admin } from 'kafkajs';

export type PartitionLag = {
  partition: number;
  lag: number;
  /** The group's committed offset (the next to read), or -1 when it never committed there. */
  committed: number;
  /** The oldest offset still in the log and the high watermark (the next to be written). */
  low: number;
  high: number;
};

export type GroupLag = { total: number; partitions: PartitionLag[] };

/** The topic is not on the brokers (never created, or deleted): waiting cannot help. */
export class TopicMissingError extends Error {
  readonly code = 'KAFKA_TOPIC_MISSING';
  readonly retryable = false;
  constructor(readonly topic: string) {
    super(`topic "${topic}" does not exist on the Kafka brokers (create it, or set KAFKA_TAPS_TOPIC)`);
    this.name = 'TopicMissingError';
  }
}

// kafkajs reports a missing topic under these names; checked by text, as its errors are plain.
const UNKNOWN_TOPIC =
  /UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition|topic.*(not found|does not exist)/i;

export function isTopicMissing(err: unknown): boolean {
  if (err instanceof TopicMissingError) return true;
  const e = err as { type?: unknown; message?: unknown };
  return (
    e?.type === 'UNKNOWN_TOPIC_OR_PARTITION' ||
    (typeof e?.message === 'string' && UNKNOWN_TOPIC.test(e.message))
  );
}

/** Throws TopicMissingError unless `topic` exists: checked before a consumer subscribes. */
export async function assertTopicExists(admin: Admin, topic: string): Promise<void> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) throw new TopicMissingError(topic);
}

/**
 * How far the group is behind the end of the topic: per partition, the high watermark minus the
 * committed offset (or minus the low watermark when the group never committed there).
 */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<GroupLag> {
  const [ends, committed] = await Promise.all([
    admin.fetchTopicOffsets(topic).catch((err: unknown) => {
      throw isTopicMissing(err) ? new TopicMissingError(topic) : err;
    }),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const byPartition = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)] as const),
  );
  const partitions = ends
    .map((e) => {
      const done = byPartition.get(e.partition) ?? -1;
      const low = Number(e.low);
      const high = Number(e.high);
      const from = done >= 0 ? done : low;
      return { partition: e.partition, lag: Math.max(0, high - from), committed: done, low, high };
    })
    .sort((a, b) => a.partition - b.partition);
  return { total: partitions.reduce((a, p) => a + p.lag, 0), partitions };
}

/**
 * Resolves once `lag()` reports nothing behind, polling every `intervalMs`; `onTick` sees each
 * reading after a wait. Rejects when `healthy` throws (a consumer that crashed for good, a stall),
 * when the topic is gone, or after `timeoutMs` (with `describe()` in the message). A lag that
 * cannot be read (broker restarting) is waited out. A reading is never waited for past the
 * deadline: a server that stops answering without closing its connection cannot make the run
 * outlive its timeout.
 */
export async function waitForNoLag(options: {
  lag: () => Promise<GroupLag>;
  intervalMs: number;
  timeoutMs?: number;
  onTick?: (lag: GroupLag) => void;
  healthy?: () => void;
  describe?: () => string;
}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
  const read = async (): Promise<GroupLag | undefined> =>
    within(
      deadline - Date.now(),
      options.lag().catch((err: unknown) => {
        if (isTopicMissing(err)) throw err;
        return undefined;
      }),
    );
  let current = await read();
  // The last reading that answered, for the message when the latest did not.
  let known = current;
  while (current === undefined || current.total > 0) {
    await new Promise((r) => setTimeout(r, options.intervalMs));
    options.healthy?.();
    if (Date.now() > deadline) {
      const behind =
        current !== undefined
          ? `${current.total} messages behind`
          : known !== undefined
            ? `${known.total} messages behind at the last reading (the lag cannot be read now)`
            : 'lag unknown (broker unreachable)';
      const more = options.describe?.();
      throw new CatchUpTimeoutError(
        `not caught up after ${Math.round((options.timeoutMs ?? 0) / 1000)} s: ${behind}${more ? `; ${more}` : ''}`,
      );
    }
    current = await read();
    if (current) {
      known = current;
      options.onTick?.(current);
    }
  }
}

export class CatchUpTimeoutError extends Error {
  readonly code = 'INGEST_CATCH_UP_TIMEOUT';
  readonly retryable = true;
}
