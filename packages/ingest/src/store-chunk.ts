import { serviceDayOf } from '@boarding/contracts/time';
import { recordsOfChunk } from '@boarding/db/bulk/offset-records';
import {
  type DeadLetterRow,
  forgetPartitions,
  rememberPartitions,
  type StoreResult,
  storeTapBatch,
} from '@boarding/db/bulk/tap-store';
import { classifyDatabaseError, describeDatabaseError } from '@boarding/db/errors';
import { withTransaction } from '@boarding/db/transaction';
import type { Logger } from '@boarding/logger/logger';
import { backOff } from 'exponential-backoff';
import type { Pool } from 'pg';
import { type Classified, type ClassifyOptions, classifyBatch, type IngestMessage } from './classify';
import { addCounts } from './counts';

export type ChunkStoreContext = {
  pool: Pool;
  topic: string;
  logger: Logger;
  classify: ClassifyOptions;
  /** Counts each retry of a chunk after a transient (or unexplained) database error. */
  retries: { inc: () => void };
};

export type ChunkStoreHooks = {
  /** Keeps the Kafka group membership alive between retries. */
  heartbeat: () => Promise<void>;
  /** True once the caller gives up on this chunk (shutdown, rebalance): retries stop. */
  aborted?: () => boolean;
};

/** The caller gave up while the database was away: nothing of the chunk was committed. */
export class StoreAbortedError extends Error {
  readonly code = 'INGEST_STORE_ABORTED';
  readonly retryable = true;
}

// Waits between tries: full jitter so several ingest processes do not retry in step, capped so
// a database back from a restart is used within seconds.
const BACKOFF = { startingDelay: 100, maxDelay: 5000, timeMultiple: 2, jitter: 'full' as const };

/**
 * Store one chunk of messages, read in order from one partition, so that every message leaves
 * exactly one record (SPEC §2) and no message can stop the ingest:
 *
 * - The chunk is classified and stored in ONE transaction; transient failures (database away,
 *   deadlock) and unexplained ones are retried in place with backoff, never dead-lettered.
 * - When the database refuses the DATA (`rejected`: a value it cannot store, a constraint), the
 *   chunk is cut in halves, each stored the same way, first half first (a validator's first
 *   arrival wins, so order matters), down to the single message at fault, which is recorded as
 *   a `STORE_REJECTED` dead letter with the database's error text. The rest is stored.
 *
 * The consumer and a replay both write through here, so a replayed message is judged and stored
 * exactly as the first pass did.
 */
export async function storeMessages(
  ctx: ChunkStoreContext,
  messages: IngestMessage[],
  hooks: ChunkStoreHooks,
  /** `classifyBatch(messages, ctx.classify)` when the caller already has it (a replay counts with it). */
  classified?: Classified,
): Promise<StoreResult> {
  const recorded = await alreadyRecorded(ctx, messages);
  if (recorded !== null) return recorded;
  // Classified inside the retried work: a message that makes classifying throw (a timestamp no
  // Date can hold) is refused like one the database refuses, and bisected out.
  let judged = classified;
  const outcome = await storeWithRetries(
    ctx,
    () => (judged ??= classifyBatch(messages, ctx.classify)),
    hooks,
  );
  if ('result' in outcome) return outcome.result;
  const [only] = messages;
  if (messages.length === 1 && only) {
    ctx.logger.warn(
      { partition: only.partition, offset: only.offset, error: describeDatabaseError(outcome.refused) },
      'the database refused a message: dead-lettered as STORE_REJECTED',
    );
    return storeRejected(ctx, only, outcome.refused, hooks);
  }
  const half = Math.ceil(messages.length / 2);
  const first = await storeMessages(ctx, messages.slice(0, half), hooks);
  const second = await storeMessages(ctx, messages.slice(half), hooks);
  return mergeResults(first, second);
}

/**
 * The result of storing a chunk every message of which already has its one record (a replay, a
 * chunk read again after a crash before its offset commit), read from those records instead of
 * judging and sending every message again: storing it would change nothing, and judging it
 * again gives what the records say (a stored tap's own message is already stored, a duplicate
 * or a dead letter stays one, as it depends only on the message and the first arrival of its
 * key). Null when any message lacks its record, or the lookup failed: the chunk is then stored
 * as usual, retries included.
 */
async function alreadyRecorded(
  ctx: ChunkStoreContext,
  messages: IngestMessage[],
): Promise<StoreResult | null> {
  const first = messages[0];
  const last = messages[messages.length - 1];
  if (first === undefined || last === undefined) return null;
  // The offset range stands for the chunk only when it is read in order from one partition.
  for (let i = 1; i < messages.length; i++) {
    const m = messages[i] as IngestMessage;
    const previous = messages[i - 1] as IngestMessage;
    if (m.partition !== first.partition || m.offset <= previous.offset) return null;
  }
  const records = await recordsOfChunk(ctx.pool, ctx.topic, {
    partition: first.partition,
    from: first.offset,
    to: last.offset,
    messages: messages.length,
  }).catch(() => null);
  if (records === null) return null;
  return {
    stored: 0,
    matched: 0,
    duplicates: records.duplicates,
    alreadyStored: records.taps,
    deadLettered: records.deadLettered,
    heartbeats: records.heartbeats,
    days: [],
    partitionsEnsured: [],
  };
}

type Attempt = { result: StoreResult } | { refused: unknown };

async function storeWithRetries(
  ctx: ChunkStoreContext,
  classify: () => Classified,
  hooks: ChunkStoreHooks,
  refusalIsFinal = true,
): Promise<Attempt> {
  try {
    const result = await backOff(() => storeOnce(ctx, classify()), {
      ...BACKOFF,
      numOfAttempts: Number.POSITIVE_INFINITY,
      retry: async (err: unknown, attempt: number) => {
        const kind = classifyDatabaseError(err);
        if (kind === 'rejected' && refusalIsFinal) return false;
        if (hooks.aborted?.()) return false;
        if (kind === 'stale-partitions') forgetPartitions();
        ctx.retries.inc();
        const fields = { attempt, error: describeDatabaseError(err) };
        // Transient is expected weather; anything else is ours to look at (it may be a bug).
        if (kind === 'transient' || kind === 'stale-partitions')
          ctx.logger.warn(fields, 'database error, retrying the chunk');
        else ctx.logger.error(fields, 'unexplained database error, retrying the chunk');
        await hooks.heartbeat().catch(() => undefined);
        return true;
      },
    });
    return { result };
  } catch (err) {
    if (refusalIsFinal && classifyDatabaseError(err) === 'rejected') return { refused: err };
    if (hooks.aborted?.()) throw new StoreAbortedError(`chunk abandoned: ${describeDatabaseError(err)}`);
    throw err;
  }
}

async function storeOnce(ctx: ChunkStoreContext, classified: Classified): Promise<StoreResult> {
  // The one transaction helper: a client whose connection failed is discarded, not pooled.
  const result = await withTransaction(ctx.pool, (client) =>
    storeTapBatch(client, { topic: ctx.topic, ...classified }),
  );
  // Only now, committed, do the partitions it created exist for everyone.
  rememberPartitions(result.partitionsEnsured);
  return result;
}

/**
 * The message the database refused, as a dead letter holding only what is always storable: the
 * raw bytes, the Kafka coordinates and the database's words. Its service day is that of the
 * Kafka timestamp (the tap's own fields are what was refused). Should even this be refused,
 * something other than the message is wrong: it is retried like an unexplained error.
 */
async function storeRejected(
  ctx: ChunkStoreContext,
  m: IngestMessage,
  refused: unknown,
  hooks: ChunkStoreHooks,
): Promise<StoreResult> {
  const timestamp = Number.isFinite(new Date(m.timestamp).getTime()) ? m.timestamp : 0;
  const letter: DeadLetterRow = {
    topic: ctx.topic,
    partition: m.partition,
    offset: m.offset,
    timestamp,
    key: m.key,
    value: m.value,
    reason: 'STORE_REJECTED',
    detail: describeDatabaseError(refused),
    validatorId: null,
    seq: null,
    serviceDay: serviceDayOf(timestamp),
  };
  const outcome = await storeWithRetries(
    ctx,
    () => ({ taps: [], heartbeats: [], deadLetters: [letter] }),
    hooks,
    false,
  );
  if ('result' in outcome) return outcome.result;
  throw new Error('unreachable: a dead letter is never final-refused');
}

function mergeResults(a: StoreResult, b: StoreResult): StoreResult {
  const deadLettered = { ...a.deadLettered };
  addCounts(deadLettered, b.deadLettered);
  return {
    stored: a.stored + b.stored,
    matched: a.matched + b.matched,
    duplicates: a.duplicates + b.duplicates,
    alreadyStored: a.alreadyStored + b.alreadyStored,
    deadLettered,
    heartbeats: a.heartbeats + b.heartbeats,
    days: [...new Set([...a.days, ...b.days])],
    partitionsEnsured: [...new Set([...a.partitionsEnsured, ...b.partitionsEnsured])],
  };
}
