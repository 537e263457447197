import { deliveryAttempts, exportVersions } from '@boarding/db/schema';
import { withTransaction } from '@boarding/db/transaction';
import { asc, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';

/**
 * The delivery ledger (SPEC §4), owned by delivery: every attempt to deliver a day's file and
 * every version that reached the receiver. Types come from the drizzle schema
 * (`@boarding/db/schema` deliveries), so a column added there is seen here.
 */

/** A version of a day's file that reached the receiver, with its manifest bytes. */
export type DeliveredVersion = typeof exportVersions.$inferSelect;
export type NewDeliveredVersion = Omit<typeof exportVersions.$inferInsert, 'deliveredAt'>;

export type AttemptOutcome = (typeof deliveryAttempts.$inferSelect)['outcome'];
export type LedgerEntry = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = Omit<LedgerEntry, 'id' | 'finishedAt'>;

/** A delivered version as commands show it (no manifest bytes). */
export type VersionSummary = {
  version: number;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  supersedes: number | null;
  deliveredAt: string | null;
};

export function summarizeVersion(v: DeliveredVersion): VersionSummary {
  return {
    version: v.version,
    file: v.fileName,
    rows: v.rows,
    bytes: v.bytes,
    sha256: v.sha256,
    supersedes: v.supersedes,
    deliveredAt: v.deliveredAt?.toISOString() ?? null,
  };
}

const orm = (db: Pool | PoolClient) => drizzle(db);

/** The newest version of day D that reached the receiver, or null if none has. */
export async function lastDeliveredVersion(pool: Pool, day: string): Promise<DeliveredVersion | null> {
  const rows = await orm(pool)
    .select()
    .from(exportVersions)
    .where(eq(exportVersions.serviceDay, day))
    .orderBy(desc(exportVersions.version))
    .limit(1);
  return rows[0] ?? null;
}

/** Every delivered version of day D, oldest first. */
export async function deliveredVersions(pool: Pool, day: string): Promise<DeliveredVersion[]> {
  return orm(pool)
    .select()
    .from(exportVersions)
    .where(eq(exportVersions.serviceDay, day))
    .orderBy(asc(exportVersions.version));
}

/** A failed or UNCHANGED attempt. */
export async function recordAttempt(pool: Pool, attempt: NewAttempt): Promise<void> {
  await orm(pool).insert(deliveryAttempts).values(attempt);
}

/**
 * A successful delivery: the attempt and (for a new version) the version row, in one
 * transaction, so "last delivered version" never disagrees with the ledger.
 */
export async function recordDelivered(
  pool: Pool,
  attempt: NewAttempt,
  version: NewDeliveredVersion | null,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    const db = orm(client);
    await db.insert(deliveryAttempts).values(attempt);
    if (version) await db.insert(exportVersions).values(version).onConflictDoNothing();
  });
}

/** The ledger, newest first: every attempt of one day, or of all days. */
export async function readLedger(
  pool: Pool,
  options: { day?: string; limit?: number } = {},
): Promise<LedgerEntry[]> {
  const day = options.day ?? null;
  return orm(pool)
    .select()
    .from(deliveryAttempts)
    .where(day === null ? undefined : eq(deliveryAttempts.serviceDay, day))
    .orderBy(desc(deliveryAttempts.id))
    .limit(options.limit ?? 100);
}
