import type { Pool } from 'pg';
import { createDb } from './client';
import { withDbTransaction, withTransaction } from './transaction';

// The stack's own database: these tests only use temporary tables and their own connections.
let pool: Pool;
beforeAll(() => {
  pool = createDb({ pool: { max: 2 } }).pool;
});
afterAll(async () => {
  await pool.end();
});

async function failure(run: Promise<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure, the transaction succeeded');
}

/** The backend pid of the client a transaction gets: the pool's one idle client, if any is reused. */
const pidOf = (client: { query: Pool['query'] }) =>
  client.query<{ pid: number }>('select pg_backend_pid() as pid').then((r) => r.rows[0]?.pid);

describe('withTransaction', () => {
  it('commits what the work wrote and returns its result', async () => {
    const got = await withTransaction(pool, async (client) => {
      await client.query('create temp table t_commit (n int) on commit preserve rows');
      await client.query('insert into t_commit values (1), (2)');
      return 'done';
    });
    expect(got).toBe('done');
    // The same client comes back (one idle): the temporary table survived the commit.
    await withTransaction(pool, async (client) => {
      const { rows } = await client.query('select count(*)::int as n from t_commit');
      expect(rows).toEqual([{ n: 2 }]);
      await client.query('drop table t_commit');
    });
  });

  it('rolls back when the work throws and keeps the healthy client in the pool', async () => {
    const pid = await withTransaction(pool, pidOf);
    const err = await failure(
      withTransaction(pool, async (client) => {
        await client.query('create temp table t_rollback (n int)');
        throw new Error('refused by the work');
      }),
    );
    expect((err as Error).message).toBe('refused by the work');
    expect(pool.totalCount).toBe(1);
    await withTransaction(pool, async (client) => {
      expect(await pidOf(client)).toBe(pid);
      const { rows } = await client.query("select to_regclass('pg_temp.t_rollback') as t");
      expect(rows).toEqual([{ t: null }]);
    });
  });

  it('destroys a client whose connection died, and the next transaction gets a working one', async () => {
    const pid = await withTransaction(pool, pidOf);
    const err = await failure(
      withTransaction(pool, (client) => client.query('select pg_terminate_backend(pg_backend_pid())')),
    );
    expect((err as { code?: string }).code).toBe('57P01');
    expect(pool.totalCount).toBe(0);
    expect(await withTransaction(pool, pidOf)).not.toBe(pid);
  });

  it('throws the work’s error, not the failed rollback’s, and destroys that client', async () => {
    const err = await failure(
      withTransaction(pool, async (client) => {
        // The connection is gone, but the work reports its own error: only the rollback finds out.
        await client.query('select pg_terminate_backend(pg_backend_pid())').catch(() => undefined);
        throw new Error('the work’s own error');
      }),
    );
    expect((err as Error).message).toBe('the work’s own error');
    expect(pool.totalCount).toBe(0);
  });
});

describe('withDbTransaction', () => {
  it('gives drizzle a handle on the transaction’s client and discards it when the connection dies', async () => {
    const err = await failure(
      withDbTransaction(pool, (tx) => tx.$client.query('select pg_terminate_backend(pg_backend_pid())')),
    );
    expect((err as { code?: string }).code).toBe('57P01');
    expect(pool.totalCount).toBe(0);
  });
});
