import { sql } from 'drizzle-orm';
import { check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Where kiosks and staffed activation points stand (SPEC §1, §9). A KIOSK or ACTIVATION_POINT
 * API key names one; the real activation points are seeded by the migration that made this table.
 */
export const locations = pgTable(
  'locations',
  {
    // A stable slug (`metro-bornova`, `pier-karsiyaka`): what `apikey create --location` takes.
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['METRO', 'PIER', 'BUS_HUB'] }).notNull(),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    check('locations_id_slug', sql`${t.id} ~ '^[a-z0-9]+(-[a-z0-9]+)*$'`),
    check('locations_kind', sql`${t.kind} in ('METRO', 'PIER', 'BUS_HUB')`),
  ],
);
