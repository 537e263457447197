import type { Db } from '@boarding/db/client';
import type { Logger } from '@boarding/logger/logger';
import type { Producer } from 'kafkajs';
import type { Pool, PoolClient } from 'pg';
import { CARD_STATUS_TOPIC, cardStatusMessage } from './card-status-message';
import { recomputeClockStatuses } from './clock-sweep';
import { markSent, readUnsent } from './outbox';

// One active relay per database (SPEC §10 / issue: "one active relay at a time"): a session-level
// advisory lock, held on the relay's own connection for as long as it is active. A second relay
// (the registry API's and `boarding serve status-relay`, or two replicas) waits on standby and
// takes over within `lockRetryMs` when the first one's connection ends.
export const STATUS_RELAY_LOCK = 0x5a7a_7500;

export type StatusRelayOptions = {
  pool: Pool;
  db: Db;
  /** An idempotent producer, connected by the caller (one in flight, so order holds per card). */
  producer: Producer;
  logger: Logger;
  topic?: string;
  batchSize?: number;
  /** How long to wait for a NOTIFY before looking anyway (a missed notification costs this much). */
  pollMs?: number;
  /** How often a relay on standby tries to become the active one. */
  lockRetryMs?: number;
  /** After a failed publish (Kafka away), how long before the next try. */
  retryMs?: number;
  now?: () => Date;
  /**
   * How often the active relay recomputes the cards whose match began or ended by the clock alone
   * (`recomputeClockStatuses`), and how far back its first sweep after becoming active looks.
   */
  clockSweepMs?: number;
  clockSweepLookbackMs?: number;
  /** Published messages, for metrics: called after each batch is marked sent. */
  onPublished?: (rows: number) => void;
};

export type StatusRelay = {
  start: () => void;
  /** Idempotent: stops the loop, waits for the batch in flight, releases the lock. */
  stop: () => Promise<void>;
  /** Publishes every unsent row now (tests, `status publish`); returns how many. */
  drain: () => Promise<number>;
  readonly active: boolean;
};

/**
 * The transactional outbox's relay: publishes card_status_outbox rows to `card.status.v1` in id
 * order and marks them sent. At least once: a crash after the publish and before the mark sends
 * those rows again, which validators drop by `version`. A crash before the publish loses nothing.
 */
export function createStatusRelay(options: StatusRelayOptions): StatusRelay {
  const topic = options.topic ?? CARD_STATUS_TOPIC;
  const batchSize = options.batchSize ?? 500;
  const pollMs = options.pollMs ?? 1000;
  const lockRetryMs = options.lockRetryMs ?? 5000;
  const retryMs = options.retryMs ?? 1000;
  const now = options.now ?? (() => new Date());
  const clockSweepMs = options.clockSweepMs ?? 60_000;
  const clockSweepLookbackMs = options.clockSweepLookbackMs ?? 48 * 3_600_000;
  const { logger } = options;
  // Where the next clock sweep starts: null until this relay becomes active (then the lookback).
  let sweptUntil: Date | null = null;
  let nextSweepAt = 0;
  let running = false;
  let active = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let lockClient: PoolClient | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  // The outbox is read and marked through the pool; the lock lives on its own connection. A lock
  // connection that died without an 'error' event (a server-side kill, a silent network loss)
  // would let a second relay take the lock while this one still publishes: each batch first
  // proves the connection answers, or this relay goes back to standby.
  const confirmLockAlive = async () => {
    const client = lockClient;
    // drain() called directly (tests, `status publish`): no loop, no lock to prove.
    if (!client) return;
    try {
      await client.query('select 1');
    } catch (err) {
      active = false;
      throw err;
    }
  };

  const drain = async (): Promise<number> => {
    let total = 0;
    for (;;) {
      const rows = await readUnsent(options.db, batchSize);
      if (rows.length === 0) return total;
      await confirmLockAlive();
      await options.producer.send({ topic, acks: -1, messages: rows.map(cardStatusMessage) });
      await markSent(
        options.db,
        rows.map((r) => r.id),
        now(),
      );
      total += rows.length;
      options.onPublished?.(rows.length);
      if (rows.length < batchSize) return total;
    }
  };

  const releaseLock = async () => {
    const client = lockClient;
    lockClient = undefined;
    active = false;
    if (!client) return;
    // Destroyed, not returned to the pool: the connection still LISTENs and carries this relay's
    // handlers; closing it also releases the advisory lock.
    client.release(true);
  };

  const acquire = async (): Promise<boolean> => {
    const client = await options.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
        STATUS_RELAY_LOCK,
      ]);
      if (!rows[0]?.ok) {
        client.release();
        return false;
      }
      client.on('notification', () => wake?.());
      // The lock lives with this connection: if it breaks, this relay is no longer the active one.
      client.on('error', (err) => {
        logger.warn({ error: err.name }, 'status relay: lock connection lost; back to standby');
        active = false;
      });
      await client.query('listen card_status_outbox');
      lockClient = client;
      active = true;
      sweptUntil = null;
      nextSweepAt = 0;
      logger.info({ topic }, 'status relay active');
      return true;
    } catch (err) {
      client.release(true);
      throw err;
    }
  };

  // A bound that passed while no relay was active is caught by the first sweep's lookback; the
  // windows overlap by a minute so a commit racing the sweep's clock is never missed.
  // Never in the way of publishing: a sweep that fails (a statement timeout on a big first window,
  // the database away) is logged and tried again at the next interval over the same window,
  // while the outbox keeps draining.
  const sweepClock = async () => {
    if (Date.now() < nextSweepAt) return;
    nextSweepAt = Date.now() + clockSweepMs;
    const started = now();
    const since = sweptUntil ?? new Date(started.getTime() - clockSweepLookbackMs);
    try {
      const changed = await recomputeClockStatuses(options.pool, since);
      sweptUntil = new Date(started.getTime() - 60_000);
      if (changed > 0) logger.info({ changed }, 'status relay: statuses changed by the clock recomputed');
    } catch (err) {
      logger.warn(
        { error: (err as Error).name, code: (err as { code?: unknown }).code, since: since.toISOString() },
        'status relay: clock sweep failed; tried again at the next interval',
      );
    }
  };

  const run = async () => {
    while (running) {
      try {
        if (!active) {
          await releaseLock();
          if (!(await acquire())) {
            await sleep(lockRetryMs);
            continue;
          }
        }
        await sweepClock();
        const published = await drain();
        if (published > 0) logger.debug({ published }, 'status relay published');
        else await sleep(pollMs);
      } catch (err) {
        // Kafka or PostgreSQL away: nothing is marked sent that was not acknowledged; try again.
        logger.warn(
          { error: (err as Error).name, code: (err as { code?: unknown }).code },
          'status relay: publish failed; retrying',
        );
        if (running) await sleep(retryMs);
      }
    }
  };

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      if (!running) return;
      running = false;
      wake?.();
      await loop;
      await releaseLock();
    },
    drain,
    get active() {
      return active;
    },
  };
}
