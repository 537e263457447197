import { nightlyRuns } from '@boarding/db/schema';
import { desc } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool } from 'pg';

/** A nightly firing whose days were queued, kept in PostgreSQL (SPEC §5 catch-up). Idempotent. */
export async function recordNightlyRun(
  pool: Pool,
  run: { firedAt: Date; serviceDay: string; source: 'scheduler' | 'catch-up' },
): Promise<void> {
  await drizzle(pool).insert(nightlyRuns).values(run).onConflictDoNothing();
}

/** The newest firing recorded, or null when no night ever ran. */
export async function lastNightlyRun(pool: Pool): Promise<Date | null> {
  const rows = await drizzle(pool)
    .select({ firedAt: nightlyRuns.firedAt })
    .from(nightlyRuns)
    .orderBy(desc(nightlyRuns.firedAt))
    .limit(1);
  return rows[0]?.firedAt ?? null;
}
