import { MAX_CLOCK_AHEAD_MS } from '@boarding/contracts/time';
import { type StoreResult, storeTapBatch } from '@boarding/db/bulk/tap-store';
import type { Logger } from '@boarding/logger/logger';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { type Classified, type ClassifyOptions, classifyBatch, type IngestMessage } from './classify';
import type { IngestMetrics } from './metrics';

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
  /** Called after each committed chunk (progress lines, tests). */
  onChunk?: (result: StoreResult & { consumed: number }) => void;
};

export type IngestConsumer = {
  consumer: Consumer;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** Resolves with the error when the consumer crashed for good (kafkajs will not restart it). */
  crashed: Promise<Error>;
};

// SQLSTATE classes worth retrying in place: connection loss (08), a server shutting down or
// restarting (57P01-57P03), serialization failure and deadlock (40001, 40P01).
const TRANSIENT = /^(08|57P0[123]|40001|40P01|53300)/;

function isTransient(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e.code === 'string' && TRANSIENT.test(e.code)) return true;
  return /ECONNREFUSED|ECONNRESET|EPIPE|Connection terminated|terminating connection|not queryable|the database system is (starting up|shutting down)|timeout exceeded when trying to connect/i.test(
    e.message ?? '',
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SPEC §2's clock rules for a topic: shared by the consumer and a replay, which must judge alike. */
export function classifyOptionsFor(topic: string, maxTapAgeDays: number): ClassifyOptions {
  return { topic, maxFutureMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: maxTapAgeDays * 86_400_000 };
}

export type ChunkStoreContext = {
  pool: Pool;
  topic: string;
  logger: Logger;
  /** Counts each retry of a chunk after a transient database error. */
  retries: { inc: () => void };
};

/**
 * Store one classified chunk in ONE PostgreSQL transaction, retrying it in place (with kafkajs
 * heartbeats between tries) while the database error is transient. The consumer and a replay
 * both write through here, so a replayed message is stored exactly as the first pass stored it.
 */
export async function storeClassifiedChunk(
  ctx: ChunkStoreContext,
  classified: Classified,
  heartbeat: () => Promise<void>,
): Promise<StoreResult> {
  const { pool, topic, logger } = ctx;
  for (let attempt = 1; ; attempt++) {
    // Tagged, not instanceof Error: socket errors come from another realm under jest.
    const connected = await pool.connect().then(
      (client) => ({ client }),
      (error: unknown) => ({ error }),
    );
    if ('error' in connected) {
      if (!isTransient(connected.error) || attempt >= 30) throw connected.error;
    } else {
      const { client } = connected;
      try {
        await client.query('begin');
        const result = await storeTapBatch(client, { topic, ...classified });
        await client.query('commit');
        client.release();
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        // A broken connection must not go back to the pool.
        client.release(err as Error);
        if (!isTransient(err) || attempt >= 30) throw err;
        logger.warn({ attempt, code: (err as { code?: string }).code }, 'database error, retrying the batch');
      }
    }
    ctx.retries.inc();
    await heartbeat().catch(() => undefined);
    await sleep(Math.min(5000, 100 * 2 ** attempt));
  }
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
    maxBytes: 8 << 20,
  });
  const classifyOptions = classifyOptionsFor(topic, options.maxTapAgeDays);
  const storeContext: ChunkStoreContext = { pool, topic, logger, retries: metrics.retries };

  function storeChunk(messages: IngestMessage[], heartbeat: () => Promise<void>): Promise<StoreResult> {
    return storeClassifiedChunk(storeContext, classifyBatch(messages, classifyOptions), heartbeat);
  }

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
      const result = await storeChunk(chunk, heartbeat);
      resolveOffset(String(last.offset));
      // Committed only now, after PostgreSQL committed the chunk.
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition: batch.partition, offset: String(last.offset + 1) }] }],
      });
      timer();
      metrics.consumed.inc(chunk.length);
      metrics.stored.inc(result.stored);
      metrics.matched.inc(result.matched);
      metrics.duplicates.inc(result.duplicates);
      metrics.alreadyStored.inc(result.alreadyStored);
      metrics.heartbeats.inc(result.heartbeats);
      for (const [reason, n] of Object.entries(result.deadLettered)) metrics.deadLettered.inc({ reason }, n);
      options.onChunk?.({ ...result, consumed: chunk.length });
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
