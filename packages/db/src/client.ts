import { DatabaseEnv, loadEnv } from '@boarding/config/env';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Pool, type PoolConfig } from 'pg';
import * as schema from './schema/index';

export type Db = NodePgDatabase<typeof schema> & { $client: Pool };

/** One pool per process; the drizzle instance and raw `pg` (for COPY) share it. */
export function createDb(options: { url?: string; pool?: PoolConfig } = {}): { db: Db; pool: Pool } {
  const url = options.url ?? loadEnv(DatabaseEnv).DATABASE_URL;
  const pool = new Pool({ connectionString: url, max: 10, application_name: 'boarding', ...options.pool });
  // An idle client's connection dropping (a PostgreSQL restart) must not crash the process;
  // the next query on a fresh connection reports the problem where it can be retried.
  pool.on('error', () => undefined);
  // The same for a checked-out client: without a listener its 'error' event (the server
  // terminating the connection mid-query) would crash the process instead of failing the query.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { db: drizzle(pool, { schema }) as Db, pool };
}
