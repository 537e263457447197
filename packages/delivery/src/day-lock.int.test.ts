import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { settleWithin } from '@boarding/testing/settle';
import { acquireDayLock } from './day-lock';

const DAY = '2020-11-20';

describe('acquireDayLock: one export of a day at a time, never a wait without end', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('day_lock');
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Advisory locks of any session still waiting (not granted) in this database. */
  const waiting = async () =>
    (
      await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database
          where l.locktype = 'advisory' and not l.granted and d.datname = current_database()`,
      )
    ).rows[0]?.n;

  it('a second acquire while the first is held times out with a retryable DAY_LOCK_TIMEOUT, and succeeds after release', async () => {
    const first = await acquireDayLock(db.pool, DAY, { timeoutMs: 2_000 });
    const second = acquireDayLock(db.pool, DAY, { timeoutMs: 300 });
    await expect(settleWithin(20_000, second, 'the second acquire')).rejects.toMatchObject({
      code: 'DAY_LOCK_TIMEOUT',
      retryable: true,
      message: `export of ${DAY} is held by another process for more than 0.3 s`,
    });
    // The one that gave up waits no more and has given its connection back.
    expect(await waiting()).toBe(0);
    expect(db.pool.totalCount - db.pool.idleCount).toBe(1);

    await first.release();
    const third = await settleWithin(20_000, acquireDayLock(db.pool, DAY, { timeoutMs: 300 }));
    await third.release();
    expect(db.pool.totalCount - db.pool.idleCount).toBe(0);
  });

  it('is the very lock deliverDayExport has always taken (key boarding-export:<day>), and only that day', async () => {
    const other = await db.pool.connect();
    try {
      await other.query('select pg_advisory_lock(hashtextextended($1, 0))', [`boarding-export:${DAY}`]);
      await expect(acquireDayLock(db.pool, DAY, { timeoutMs: 200 })).rejects.toMatchObject({
        code: 'DAY_LOCK_TIMEOUT',
      });
      const nextDay = await acquireDayLock(db.pool, '2020-11-21', { timeoutMs: 200 });
      await nextDay.release();
    } finally {
      other.release(true);
    }
  });

  it('stops waiting when its signal aborts: rejects with the reason, gives its connection back and never takes the lock later', async () => {
    const first = await acquireDayLock(db.pool, DAY, { timeoutMs: 2_000 });
    const controller = new AbortController();
    const second = acquireDayLock(db.pool, DAY, { timeoutMs: 600_000, signal: controller.signal });
    second.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // let it wait a while
    const reason = new Error('exporter shutting down');
    controller.abort(reason);
    await expect(settleWithin(20_000, second, 'the second acquire')).rejects.toBe(reason);
    expect(db.pool.totalCount - db.pool.idleCount).toBe(1);
    expect(await waiting()).toBe(0);
    // Once the holder lets go the day is free: the one that gave up does not take it behind our back.
    await first.release();
    const next = await acquireDayLock(db.pool, DAY, { timeoutMs: 300 });
    await next.release();
  });

  it('release is idempotent and lets the next one in', async () => {
    const lock = await acquireDayLock(db.pool, DAY, { timeoutMs: 1_000 });
    await lock.release();
    await lock.release();
    const again = await acquireDayLock(db.pool, DAY, { timeoutMs: 1_000 });
    await again.release();
  });
});
