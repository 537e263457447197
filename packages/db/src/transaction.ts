import type { Pool, PoolClient } from 'pg';

/**
 * Run `work` in one transaction on one pooled client: committed when it resolves, rolled back
 * when it throws (the original error wins over a failed rollback), the client released either
 * way. `begin` sets the isolation, e.g. `begin isolation level repeatable read read only`.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  begin = 'begin',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
