import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '@boarding/db/client';
import { runMigrations } from '@boarding/db/migrate';
import { Client, type Pool } from 'pg';
import { testEnv } from './env';

export type TestDatabase = { url: string; name: string; db: Db; pool: Pool; drop: () => Promise<void> };

/**
 * A fresh, migrated database on the local stack for one test file, so files never see each
 * other's rows and can run in any order. Drop it in afterAll.
 */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const base = new URL(testEnv().DATABASE_URL);
  const name = `boarding_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: base.toString() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  const { db, pool } = createDb({ url: url.toString() });
  await runMigrations(pool);
  return {
    url: url.toString(),
    name,
    db,
    pool,
    drop: async () => {
      await pool.end();
      const c = new Client({ connectionString: base.toString() });
      await c.connect();
      try {
        // Without FORCE: that needs pg_signal_backend, and the only other session left is an
        // autovacuum worker (after a bulk load), which finishes on its own.
        for (let attempt = 1; ; attempt++) {
          try {
            await c.query(`drop database if exists ${name}`);
            return;
          } catch (err) {
            if ((err as { code?: string }).code !== '55006' || attempt >= 60) throw err;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}
