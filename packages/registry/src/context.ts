import type { Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import { mapConstraintError } from './errors';

/** Where a registry change came from (SPEC §1: web site, kiosks, staffed points, bulk import). */
export const CHANNELS = ['WEB', 'KIOSK', 'ACTIVATION_POINT', 'IMPORT', 'ADMIN', 'API'] as const;
export type Channel = (typeof CHANNELS)[number];

export type Actor = { id: string; channel: Channel };

export type RegistryContext = {
  db: Db;
  keyring: Keyring;
  actor: Actor;
  /** The clock, so a test can fix "now" (the default instant of a change). */
  now?: () => Date;
};

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** One transaction per verb; a constraint refusal surfaces as a typed RegistryError. */
export async function inTransaction<T>(ctx: RegistryContext, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await ctx.db.transaction(fn);
  } catch (err) {
    throw mapConstraintError(err);
  }
}
