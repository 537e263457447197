import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { Pool, PoolClient } from 'pg';

export const MIGRATIONS_FOLDER = join(__dirname, '..', 'drizzle');

export type MigrateResult = { applied: string[]; total: number };

function journalTags(): string[] {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  return journal.entries.map((e) => e.tag);
}

async function countApplied(client: PoolClient): Promise<number> {
  const exists = await client.query("select to_regclass('drizzle.__drizzle_migrations') is not null as ok");
  if (!exists.rows[0]?.ok) return 0;
  const { rows } = await client.query<{ n: number }>(
    'select count(*)::int as n from drizzle.__drizzle_migrations',
  );
  return rows[0]?.n ?? 0;
}

/**
 * Apply the committed migrations in journal order, each once. Several processes may run this at
 * once (two services starting): an advisory lock makes them take turns.
 */
export async function runMigrations(pool: Pool): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', ['boarding:migrate']);
    const before = await countApplied(client);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_FOLDER });
    const after = await countApplied(client);
    return { applied: journalTags().slice(before, after), total: after };
  } finally {
    await client
      .query('select pg_advisory_unlock(hashtext($1))', ['boarding:migrate'])
      .catch(() => undefined);
    client.release();
  }
}
