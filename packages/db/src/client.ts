import { DatabaseEnv, loadEnv } from '@boarding/config/env';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Pool, type PoolConfig } from 'pg';
import * as schema from './schema/index';

export type Db = NodePgDatabase<typeof schema> & { $client: Pool };

/**
 * Never a wait without end for a connection: a pool whose connections are all taken (a few
 * hung exports holding theirs), or a database that accepts but does not answer, fails the
 * acquire after 10 s with "timeout exceeded when trying to connect" (classified transient, so
 * retried) instead of queueing for ever. A caller may choose its own (`pool.connectionTimeoutMillis`).
 */
export const CONNECTION_TIMEOUT_MS = 10_000;

/**
 * TCP keepalive on every connection, first probe after 30 s idle: a connection whose server or
 * route vanished without a FIN (a failed-over host, a NAT that forgot it) is found dead by the
 * kernel instead of being taken from the pool and hanging its first query.
 */
const KEEPALIVE_INITIAL_DELAY_MS = 30_000;

/** One pool per process; the drizzle instance and raw `pg` (for COPY) share it. */
export function createDb(options: { url?: string; pool?: PoolConfig } = {}): { db: Db; pool: Pool } {
  const url = options.url ?? loadEnv(DatabaseEnv).DATABASE_URL;
  const pool = new Pool({
    connectionString: url,
    max: 10,
    application_name: 'boarding',
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
    ...options.pool,
  });
  // An idle client's connection dropping (a PostgreSQL restart) must not crash the process;
  // the next query on a fresh connection reports the problem where it can be retried.
  pool.on('error', () => undefined);
  // The same for a checked-out client: without a listener its 'error' event (the server
  // terminating the connection mid-query) would crash the process instead of failing the query.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { db: drizzle(pool, { schema }) as Db, pool };
}
