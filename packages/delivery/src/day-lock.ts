import { setTimeout as sleep } from 'node:timers/promises';
import { assertExportDay } from '@boarding/export/build-day-export';
import type { Pool, PoolClient } from 'pg';

/** How often a waiting acquire asks again: a nightly export does not miss 200 ms. */
const POLL_MS = 200;
/** How long release() waits to see the connection closed (so the lock is free when it returns). */
const RELEASE_WAIT_MS = 2_000;

/** Day D's export lock, held by this process until `release()` (idempotent). */
export type DayLock = {
  readonly day: string;
  release(): Promise<void>;
};

/** Another process kept day D's export lock (or the database did not answer) past the limit. Retryable. */
export class DayLockTimeoutError extends Error {
  readonly code = 'DAY_LOCK_TIMEOUT';
  readonly retryable = true;
  constructor(
    readonly day: string,
    readonly timeoutMs: number,
    readonly kind: 'held' | 'unanswered',
  ) {
    super(
      kind === 'held'
        ? `export of ${day} is held by another process for more than ${timeoutMs / 1000} s`
        : `export of ${day}: the database did not answer the lock request within ${timeoutMs / 1000} s`,
    );
    this.name = 'DayLockTimeoutError';
  }
}

/**
 * The one lock that makes exports of a day run one at a time across every process (SPEC §5: a
 * CLI run, the nightly job and a late-window re-check wait for each other instead of racing a
 * version). A PostgreSQL session advisory lock on a dedicated connection, keyed
 * `hashtextextended('boarding-export:' || day, 0)` — the key deliverDayExport has always used, so
 * processes of either version exclude each other. Released by closing that connection, the
 * sure way to let go of a session lock.
 *
 * Never a wait without end: `pg_try_advisory_lock` asked every 200 ms until `timeoutMs`, then
 * `DAY_LOCK_TIMEOUT`; an abort of `signal` stops at once with its reason. Chosen over a blocking
 * `pg_advisory_lock` under `SET lock_timeout` because giving up is then entirely ours: the
 * connection is closed and nothing stays queued on the server. A blocked backend whose client
 * went away keeps waiting until its lock_timeout and may even be granted the lock for a moment
 * (stopping it early takes a cancel request on a second connection). The polling is not fair
 * (no queue), which does not matter for the two or three processes that ever want one day.
 */
export async function acquireDayLock(
  pool: Pool,
  day: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<DayLock> {
  assertExportDay(day);
  const { timeoutMs, signal } = options;
  signal?.throwIfAborted();
  let sawHeld = false;
  let stop: (reason: unknown) => void = () => undefined;
  const stopped = new Promise<never>((_, reject) => {
    stop = reject;
  });
  stopped.catch(() => undefined);
  const timer = setTimeout(
    () => stop(new DayLockTimeoutError(day, timeoutMs, sawHeld ? 'held' : 'unanswered')),
    timeoutMs,
  );
  const onAbort = () => stop(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const pause = new AbortController();
  // Whatever is awaited settles by itself or is overtaken by the deadline or the abort.
  const bounded = <T>(work: Promise<T>): Promise<T> => Promise.race([work, stopped]);

  const connecting = pool.connect();
  let client: PoolClient | undefined;
  try {
    client = await bounded(connecting);
    for (;;) {
      const { rows } = await bounded(
        client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [
          `boarding-export:${day}`,
        ]),
      );
      if (rows[0]?.locked === true) return heldLock(day, client);
      sawHeld = true;
      await bounded(sleep(POLL_MS, undefined, { signal: pause.signal }));
    }
  } catch (err) {
    // Destroyed, not returned to the pool: a query may still be in flight, and should the lock
    // have been granted at the last moment, closing the session lets go of it.
    if (client) client.release(true);
    else connecting.then((late) => late.release(true)).catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
    pause.abort();
    signal?.removeEventListener('abort', onAbort);
  }
}

function heldLock(day: string, client: PoolClient): DayLock {
  let released: Promise<void> | undefined;
  return {
    day,
    release() {
      released ??= (async () => {
        const wait = new AbortController();
        const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
        client.release(true);
        // The server frees the lock when the session ends; wait to see it go (bounded), so the
        // caller's next step, or another process, finds the day free.
        await Promise.race([
          ended,
          sleep(RELEASE_WAIT_MS, undefined, { signal: wait.signal }).catch(() => undefined),
        ]);
        wait.abort();
      })();
      return released;
    },
  };
}
