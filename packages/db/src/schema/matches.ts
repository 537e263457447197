import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { cards } from './cards';
import { persons } from './persons';
import { bytea } from './types';

/**
 * A match binds one card to one person and one HES code for [valid_from, valid_to).
 * Rows are never updated in place except to end an open match (valid_to set once) or to retract
 * it by an administrative correction (retracted_at set once); the rest of history stays.
 *
 * The two rules of SPEC §3 are exclusion constraints over the time range (migration
 * 0001_match_rules.sql, btree_gist), among rows not retracted:
 *   - matches_one_per_card:   a card has at most one match at any instant;
 *   - matches_one_per_person: a person has at most one card at any instant.
 * So two channels racing cannot create an overlap: PostgreSQL refuses the second.
 */
export const matches = pgTable(
  'matches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    cardId: bigint('card_id', { mode: 'number' })
      .notNull()
      .references(() => cards.id),
    personId: bigint('person_id', { mode: 'number' })
      .notNull()
      .references(() => persons.id),
    hesEnc: bytea('hes_enc').notNull(),
    // Keyed HMAC of the HES code: tells "same HES" (idempotent re-import) without decrypting.
    hesIndex: bytea('hes_index').notNull(),
    validFrom: timestamp('valid_from', { withTimezone: true, precision: 3 }).notNull(),
    validTo: timestamp('valid_to', { withTimezone: true, precision: 3 }),
    channel: text('channel').notNull(),
    actor: text('actor').notNull(),
    // The HES service's answer when the code was checked (SPEC §9: a risky code is matched and
    // its status recorded); null where nobody asked it (bulk import, corrections).
    hesStatus: text('hes_status'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
    retractedAt: timestamp('retracted_at', { withTimezone: true }),
    retractReason: text('retract_reason'),
    // The match that replaced this one in a correction, for reading history.
    correctedBy: bigint('corrected_by', { mode: 'number' }),
  },
  (t) => [
    check('matches_range_not_empty', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
    check('matches_hes_status', sql`${t.hesStatus} is null or ${t.hesStatus} in ('RISKY', 'RISKLESS')`),
    check('matches_retract_has_reason', sql`(${t.retractedAt} is null) = (${t.retractReason} is null)`),
    // The as-of lookup: card_id = $1 and valid_from <= t order by valid_from desc limit 1. Migration
    // 0011 rebuilt it by hand with INCLUDE (id, valid_to, hes_status), which drizzle cannot say:
    // an index-only scan for the ingest, the card status and the registry lookups.
    index('matches_card_asof_idx').on(t.cardId, t.validFrom.desc()).where(sql`${t.retractedAt} is null`),
    index('matches_person_idx').on(t.personId, t.validFrom),
  ],
);
