import type { Db } from '@boarding/db/client';
import { type DbTransaction, withDbTransaction } from '@boarding/db/transaction';
import type { Keyring } from '@boarding/encryption/keyring';
import { mapConstraintError } from './errors';

/** Where a registry change came from (SPEC §1: web site, kiosks, staffed points, bulk import). */
export const CHANNELS = ['WEB', 'KIOSK', 'ACTIVATION_POINT', 'STAFF', 'IMPORT', 'ADMIN', 'API'] as const;
export type Channel = (typeof CHANNELS)[number];

/**
 * Who makes a change. `keyId` and `locationId` are set for API calls (SPEC §9: every change is
 * audited with its channel, key id and location) and land in their own audit columns.
 */
export type Actor = { id: string; channel: Channel; keyId?: string; locationId?: string | null };

export type RegistryContext = {
  db: Db;
  keyring: Keyring;
  actor: Actor;
  /** The clock, so a test can fix "now" (the default instant of a change). */
  now?: () => Date;
};

/** A verb's transaction: drizzle's query builder on the one client of the verb's transaction. */
export type Tx = DbTransaction;

/** One transaction per verb; a constraint refusal surfaces as a typed RegistryError. */
export async function inTransaction<T>(ctx: RegistryContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await withDbTransaction(ctx.db.$client, fn);
  } catch (err) {
    throw mapConstraintError(err);
  }
}
