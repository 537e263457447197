import { DAY_MS, MAX_CLOCK_AHEAD_MS } from '@boarding/contracts/time';
import type { StoreResult } from '@boarding/db/bulk/tap-store';
import type { Logger } from '@boarding/logger/logger';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { ClassifyOptions, IngestMessage } from './classify';
import type { IngestMetrics } from './metrics';
import { type ChunkStoreContext, StoreAbortedError, storeMessages } from './store-chunk';

export type IngestConsumerOptions = {
  kafka: Kafka;
  pool: Pool;
  topic: string;
  groupId: string;
  logger: Logger;
  metrics: IngestMetrics;
  maxTapAgeDays: number;
  /** Partitions processed at once by this process (each in its own transaction). */
  concurrency: number;
  /** Messages per database transaction; a fetched batch is cut into chunks of this size. */
  chunkSize: number;
  /** Kafka group session timeout: how long a crashed member holds its partitions. */
  sessionTimeoutMs: number;
  /** Called after each chunk PostgreSQL committed (progress lines, tests). */
  onChunk?: (result: StoreResult & { consumed: number }) => void;
  /** Called after a chunk's offsets were committed to Kafka: `offset` is the next one to read. */
  onCommit?: (partition: number, offset: number) => void;
};

export type IngestConsumer = {
  consumer: Consumer;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Resolves with the error when the consumer crashed for good (kafkajs will not restart it). */
  crashed: Promise<Error>;
};

/** SPEC §2's clock rules for a topic: shared by the consumer and a replay, which must judge alike. */
export function classifyOptionsFor(topic: string, maxTapAgeDays: number): ClassifyOptions {
  return { topic, maxFutureMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: maxTapAgeDays * DAY_MS };
}

/**
 * The ingest consumer: kafkajs consumer group, eachBatch, ONE PostgreSQL transaction per chunk,
 * and the chunk's offsets committed to Kafka only after that transaction committed. A crash
 * between the two replays the chunk, which the idempotent store absorbs (at-least-once delivery
 * + idempotent writes = effectively exactly once).
 */
export function createIngestConsumer(options: IngestConsumerOptions): IngestConsumer {
  const { kafka, pool, topic, logger, metrics } = options;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: Math.max(1000, Math.floor(options.sessionTimeoutMs / 10)),
    // Fetch sizes bound memory: a fetch response is held whole while its batches are stored.
    maxBytesPerPartition: 1 << 20,
    maxBytes: 4 << 20,
    // How long the broker holds a fetch that finds nothing new. Stopping waits for the fetch in
    // flight, so kafkajs' 5 s default made every caught-up run (and every shutdown) 4–5 s longer.
    maxWaitTimeInMs: 500,
  });
  const storeContext: ChunkStoreContext = {
    pool,
    topic,
    logger,
    classify: classifyOptionsFor(topic, options.maxTapAgeDays),
    retries: metrics.retries,
  };

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset, commitOffsetsIfNecessary } = payload;
    const all: IngestMessage[] = batch.messages.map((m) => ({
      partition: batch.partition,
      offset: Number(m.offset),
      timestamp: Number(m.timestamp),
      key: m.key,
      value: m.value,
    }));
    for (let i = 0; i < all.length; i += options.chunkSize) {
      // Stop between chunks on shutdown or rebalance: what was committed stays committed.
      if (!isRunning() || isStale()) return;
      const chunk = all.slice(i, i + options.chunkSize);
      const last = chunk[chunk.length - 1];
      if (!last) continue;
      const timer = metrics.batchSeconds.startTimer();
      let result: StoreResult;
      try {
        result = await storeMessages(storeContext, chunk, {
          heartbeat,
          aborted: () => !isRunning() || isStale(),
        });
      } catch (err) {
        // Shutdown or rebalance while the database was away: nothing of the chunk committed, so
        // its offsets stay uncommitted and whoever owns the partition next reads it again.
        if (err instanceof StoreAbortedError) return;
        throw err;
      }
      // Counted as soon as PostgreSQL committed: the records exist now, whatever happens to the
      // offset commit below (a chunk read again after a failed commit counts as already stored).
      metrics.consumed.inc(chunk.length);
      metrics.stored.inc(result.stored);
      metrics.matched.inc(result.matched);
      metrics.duplicates.inc(result.duplicates);
      metrics.alreadyStored.inc(result.alreadyStored);
      metrics.heartbeats.inc(result.heartbeats);
      for (const [reason, n] of Object.entries(result.deadLettered)) metrics.deadLettered.inc({ reason }, n);
      options.onChunk?.({ ...result, consumed: chunk.length });
      resolveOffset(String(last.offset));
      // Committed only now, after PostgreSQL committed the chunk.
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition: batch.partition, offset: String(last.offset + 1) }] }],
      });
      timer();
      options.onCommit?.(batch.partition, last.offset + 1);
      await heartbeat();
    }
  }

  let running = false;
  let onCrash: (err: Error) => void = () => undefined;
  const crashed = new Promise<Error>((resolve) => {
    onCrash = resolve;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      logger.warn({ err: payload.error.message }, 'consumer crashed, kafkajs restarts it');
      return;
    }
    // Never hang silently: the caller exits non-zero and a supervisor restarts the process.
    logger.error({ err: payload.error.message }, 'consumer crashed for good');
    onCrash(payload.error);
  });
  return {
    crashed,
    consumer,
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      running = true;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency,
        eachBatch,
      });
    },
    /** Stop intake, let the running chunk finish and commit, leave the group. Idempotent. */
    async stop() {
      if (!running) return;
      running = false;
      await consumer.disconnect();
    },
  };
}
