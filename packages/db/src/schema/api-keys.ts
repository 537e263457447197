import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { locations } from './locations';
import { bytea } from './types';

/**
 * The registry API's clients (SPEC §9): one channel each, a location for kiosks and activation
 * points. Only a SHA-256 of the key is kept: the key is 32 random bytes, so a plain hash cannot be
 * guessed back, and a database dump grants nothing. Revoked keys stay, for the audit trail.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    // Public, not secret: printed by `apikey list`, written to the audit, part of the key itself.
    id: text('id').primaryKey(),
    channel: text('channel', { enum: ['WEB', 'KIOSK', 'ACTIVATION_POINT', 'STAFF'] }).notNull(),
    locationId: text('location_id').references(() => locations.id),
    keyHash: bytea('key_hash').notNull(),
    label: text('label'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    // The database, not only the CLI, keeps a kiosk without a place (or a web key with one) out.
    check(
      'api_keys_location_by_channel',
      sql`(${t.channel} in ('KIOSK', 'ACTIVATION_POINT')) = (${t.locationId} is not null)`,
    ),
    check('api_keys_channel', sql`${t.channel} in ('WEB', 'KIOSK', 'ACTIVATION_POINT', 'STAFF')`),
    check('api_keys_hash_length', sql`octet_length(${t.keyHash}) = 32`),
    index('api_keys_location_idx').on(t.locationId),
  ],
);
