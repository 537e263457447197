import { sql } from 'drizzle-orm';
import { bigint, check, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * An İzmirim Kart by its printed (logical) number, normalised (upper-case hex digits). Matches
 * refer to the surrogate id: the GiST exclusion index over (card, time) is about 2.5 times
 * cheaper to maintain on a bigint than on text (measured, docs/registry.md).
 */
export const cards = pgTable(
  'cards',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    cardNo: text('card_no').notNull().unique('cards_card_no_key'),
    kind: text('kind', { enum: ['PERSONAL', 'ANONYMOUS'] }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [
    check('cards_card_no_format', sql`${t.cardNo} ~ '^[0-9A-F]{8,20}$'`),
    check('cards_kind_valid', sql`${t.kind} in ('PERSONAL', 'ANONYMOUS')`),
  ],
);
