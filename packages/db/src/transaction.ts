import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';
import { classifyDatabaseError } from './errors';

// SQLSTATE 08 connection exception; 57P01–57P03 the server is shutting down or not accepting.
const CONNECTION_SQLSTATE = /^(08|57P0[123])/;

/**
 * Whether `err` (or an error it wraps: drizzle puts the driver's error in `cause`) says the
 * connection itself failed, so the client must not go back to the pool. A serialization failure
 * or a lock timeout is transient too, but leaves the connection usable.
 */
function lostConnection(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = 'code' in e && typeof e.code === 'string' ? e.code : '';
    const sqlState = /^[0-9A-Z]{5}$/.test(code);
    if (sqlState ? CONNECTION_SQLSTATE.test(code) : classifyDatabaseError(e) === 'transient') return true;
    e = 'cause' in e ? e.cause : undefined;
  }
  return false;
}

/**
 * Run `work` in one transaction on one pooled client: committed when it resolves, rolled back
 * when it throws (the original error wins over a failed rollback). `begin` sets the isolation,
 * e.g. `begin isolation level repeatable read read only`.
 *
 * A client whose connection failed, or whose rollback failed, is destroyed instead of returned
 * to the pool: it may still be inside the aborted transaction, and the next borrower would get
 * "current transaction is aborted" for a statement of its own.
 */
export async function withTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
  begin = 'begin',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (err) {
    if (lostConnection(err)) {
      // No rollback on a dead connection (it could wait on a socket that never answers); the
      // server rolls back the transaction of a connection that goes away.
      broken = err instanceof Error ? err : new Error('connection failed during a transaction');
    } else {
      await client.query('rollback').catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error('rollback failed');
      });
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * A drizzle handle on the one client of a `withDbTransaction`: the query builder, without the
 * relational `query.*` API, whose set-up from the schema would cost ~70 µs per transaction.
 */
export type DbTransaction = NodePgDatabase & { $client: PoolClient };

/**
 * `withTransaction` with a drizzle handle on the transaction's client, for domain verbs written
 * with drizzle's query builder: the same commit, rollback and discarding of a broken client.
 */
export function withDbTransaction<T>(
  pool: Pool,
  work: (tx: DbTransaction) => Promise<T>,
  begin = 'begin',
): Promise<T> {
  return withTransaction(pool, (client) => work(drizzle(client)), begin);
}
