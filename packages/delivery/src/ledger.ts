import { deliveryAttempts, exportVersions } from '@boarding/db/schema';
import { withTransaction } from '@boarding/db/transaction';
import { and, asc, desc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { Pool, PoolClient } from 'pg';

/**
 * The delivery ledger (SPEC §4), owned by delivery: every attempt to deliver a day's file and
 * every version that reached the receiver. Types come from the drizzle schema
 * (`@boarding/db/schema` deliveries), so a column added there is seen here.
 */

/**
 * A version of a day's file that was sent, with its manifest bytes: DELIVERED, or IN_FLIGHT
 * (reserved before its upload; it may have reached the receiver).
 */
export type DeliveredVersion = typeof exportVersions.$inferSelect;
export type NewDeliveredVersion = Omit<
  typeof exportVersions.$inferInsert,
  'deliveredAt' | 'state' | 'reservedAt'
>;

export type AttemptOutcome = (typeof deliveryAttempts.$inferSelect)['outcome'];
export type LedgerEntry = typeof deliveryAttempts.$inferSelect;
export type NewAttempt = Omit<LedgerEntry, 'id' | 'finishedAt'>;
/** What a try that ended is recorded as. */
export type AttemptEnd = Pick<LedgerEntry, 'outcome' | 'errorCode' | 'error'>;

/** A delivered version as commands show it (no manifest bytes). */
export type VersionSummary = {
  version: number;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  supersedes: number | null;
  /** IN_FLIGHT: its upload started and its end was never recorded; it may be at the receiver. */
  state: DeliveredVersion['state'];
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
    state: v.state,
    deliveredAt: v.deliveredAt?.toISOString() ?? null,
  };
}

const orm = (db: Pool | PoolClient) => drizzle(db);

/** The newest version of day D that reached the receiver (DELIVERED), or null if none has. */
export async function lastDeliveredVersion(pool: Pool, day: string): Promise<DeliveredVersion | null> {
  const rows = await orm(pool)
    .select()
    .from(exportVersions)
    .where(and(eq(exportVersions.serviceDay, day), eq(exportVersions.state, 'DELIVERED')))
    .orderBy(desc(exportVersions.version))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * The newest version number of day D ever sent, DELIVERED or IN_FLIGHT: what the receiver may
 * hold. Its number is used for good; the next content gets the next number (SPEC §5).
 */
export async function lastUsedVersion(pool: Pool, day: string): Promise<DeliveredVersion | null> {
  const rows = await orm(pool)
    .select()
    .from(exportVersions)
    .where(eq(exportVersions.serviceDay, day))
    .orderBy(desc(exportVersions.version))
    .limit(1);
  return rows[0] ?? null;
}

/**
 * Reserve version N of day D before its first upload starts (state IN_FLIGHT). From here on N
 * names these bytes only. Throws on a clash (the day lock makes that a bug, not a race).
 */
export async function reserveVersion(pool: Pool, version: NewDeliveredVersion): Promise<void> {
  await orm(pool)
    .insert(exportVersions)
    .values({ ...version, state: 'IN_FLIGHT', deliveredAt: null });
}

/**
 * Give back a reservation no byte of which can have left: every try of the run that made it
 * failed before a connection was made (refused, host key or credentials rejected). The failed
 * tries stay in the ledger.
 */
export async function releaseReservation(pool: Pool, day: string, version: number): Promise<void> {
  await orm(pool)
    .delete(exportVersions)
    .where(
      and(
        eq(exportVersions.serviceDay, day),
        eq(exportVersions.version, version),
        eq(exportVersions.state, 'IN_FLIGHT'),
      ),
    );
}

/** Every version of day D ever sent (DELIVERED or IN_FLIGHT), oldest first. */
export async function deliveredVersions(pool: Pool, day: string): Promise<DeliveredVersion[]> {
  return orm(pool)
    .select()
    .from(exportVersions)
    .where(eq(exportVersions.serviceDay, day))
    .orderBy(asc(exportVersions.version));
}

/** An UNCHANGED attempt (nothing sent), recorded as ended. */
export async function recordAttempt(pool: Pool, attempt: NewAttempt): Promise<void> {
  await orm(pool).insert(deliveryAttempts).values(attempt);
}

/**
 * A try about to upload: its row is IN_FLIGHT (finished_at null) before the first byte leaves,
 * so a try whose end is never recorded (a crash, the database away) is still in the ledger.
 * Returns the row's id for `finishAttempt`.
 */
export async function startAttempt(
  pool: Pool,
  attempt: Omit<NewAttempt, 'outcome' | 'errorCode' | 'error'>,
): Promise<number> {
  const rows = await orm(pool)
    .insert(deliveryAttempts)
    .values({ ...attempt, outcome: 'IN_FLIGHT', errorCode: null, error: null, finishedAt: null })
    .returning({ id: deliveryAttempts.id });
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('the ledger returned no id for a new attempt');
  return id;
}

/**
 * How an IN_FLIGHT try ended. A DELIVERED try also marks its version DELIVERED, in the same
 * transaction, so "last delivered version" never disagrees with the ledger.
 */
export async function finishAttempt(
  pool: Pool,
  id: number,
  end: AttemptEnd,
  version: { serviceDay: string; version: number },
): Promise<void> {
  await withTransaction(pool, async (client) => {
    const db = orm(client);
    await db
      .update(deliveryAttempts)
      .set({ ...end, finishedAt: new Date() })
      .where(eq(deliveryAttempts.id, id));
    if (end.outcome !== 'DELIVERED') return;
    await db
      .update(exportVersions)
      .set({ state: 'DELIVERED', deliveredAt: new Date() })
      .where(
        and(
          eq(exportVersions.serviceDay, version.serviceDay),
          eq(exportVersions.version, version.version),
          eq(exportVersions.state, 'IN_FLIGHT'),
        ),
      );
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
