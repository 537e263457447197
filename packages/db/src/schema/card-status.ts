import { sql } from 'drizzle-orm';
import { bigint, check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Each card's status for the validators' electronic HES check (SPEC §10), as last computed from
 * the registry: NOT_MATCHED (no live match), HES_RISKY (the live match's HES code is risky),
 * ALLOWED. Kept by the database itself: triggers on `matches` (migration 0009) recompute the
 * cards a statement touched, in the same transaction, and write a row to the outbox below for
 * each card whose status changed, with the next `version`. So no path that changes a match
 * (the API, the CLI, the bulk import, a correction) can forget to publish.
 */
export const cardStatus = pgTable(
  'card_status',
  {
    // A card's id, without a foreign key (migration 0012): only card_status_recompute writes
    // here, with ids from matches.card_id, and no path deletes a card.
    cardId: bigint('card_id', { mode: 'number' }).primaryKey(),
    status: text('status', { enum: ['ALLOWED', 'NOT_MATCHED', 'HES_RISKY'] }).notNull(),
    since: timestamp('since', { withTimezone: true, precision: 3 }).notNull(),
    // Increases by one per change of this card's status; validators keep the highest.
    version: integer('version').notNull(),
  },
  (t) => [
    check('card_status_status', sql`${t.status} in ('ALLOWED', 'NOT_MATCHED', 'HES_RISKY')`),
    check('card_status_version_positive', sql`${t.version} > 0`),
  ],
);

/**
 * The transactional outbox of the card status feed: written with the change that caused it,
 * published to `card.status.v1` by the relay in id order (so in version order per card), then
 * marked sent. A crash between commit and publish leaves the row unsent: published on restart.
 */
export const cardStatusOutbox = pgTable(
  'card_status_outbox',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    // Without a foreign key, as card_status.card_id.
    cardId: bigint('card_id', { mode: 'number' }).notNull(),
    status: text('status').notNull(),
    since: timestamp('since', { withTimezone: true, precision: 3 }).notNull(),
    version: integer('version').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`clock_timestamp()`),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  // The relay's scan: unsent rows in id order.
  (t) => [index('card_status_outbox_unsent_idx').on(t.id).where(sql`${t.sentAt} is null`)],
);
