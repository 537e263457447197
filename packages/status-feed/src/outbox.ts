import type { Db } from '@boarding/db/client';
import { cardStatus, cardStatusOutbox, cards, matches } from '@boarding/db/schema';
import { and, asc, count, desc, eq, gt, inArray, isNull, min } from 'drizzle-orm';
import type { CardStatus, CardStatusRecord } from './card-status-message';

export type OutboxRow = CardStatusRecord & { id: number };

/** The oldest unsent outbox rows, in id order (which is version order per card). */
export async function readUnsent(db: Db, limit: number): Promise<OutboxRow[]> {
  const rows = await db
    .select({
      id: cardStatusOutbox.id,
      cardNo: cards.cardNo,
      status: cardStatusOutbox.status,
      since: cardStatusOutbox.since,
      version: cardStatusOutbox.version,
    })
    .from(cardStatusOutbox)
    .innerJoin(cards, eq(cards.id, cardStatusOutbox.cardId))
    .where(isNull(cardStatusOutbox.sentAt))
    .orderBy(asc(cardStatusOutbox.id))
    .limit(limit);
  return rows.map((r) => ({ ...r, status: r.status as CardStatus }));
}

export async function markSent(db: Db, ids: readonly number[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(cardStatusOutbox)
    .set({ sentAt: at })
    .where(inArray(cardStatusOutbox.id, [...ids]));
}

/** `boarding status lag`: outbox rows not yet published and when the oldest was written. */
export async function outboxLag(db: Db): Promise<{ unsent: number; oldestCreatedAt: Date | null }> {
  const [row] = await db
    .select({ unsent: count(), oldest: min(cardStatusOutbox.createdAt) })
    .from(cardStatusOutbox)
    .where(isNull(cardStatusOutbox.sentAt));
  return { unsent: row?.unsent ?? 0, oldestCreatedAt: row?.oldest ?? null };
}

/** A card's current status as a message needs it (card_status joined to cards). */
export const statusRecordColumns = {
  cardId: cardStatus.cardId,
  cardNo: cards.cardNo,
  status: cardStatus.status,
  since: cardStatus.since,
  version: cardStatus.version,
};

/** A page of every card's current status, by card id (`status publish --full`). */
export async function readStatusPage(
  db: Db,
  afterCardId: number,
  limit: number,
): Promise<(CardStatusRecord & { cardId: number })[]> {
  const rows = await db
    .select(statusRecordColumns)
    .from(cardStatus)
    .innerJoin(cards, eq(cards.id, cardStatus.cardId))
    // The bound on both tables: with it on card_status alone, the merge join's scan of cards
    // started again from the first card on every page (76 ms a page half-way through 1.2 M).
    .where(and(gt(cardStatus.cardId, afterCardId), gt(cards.id, afterCardId)))
    .orderBy(asc(cardStatus.cardId))
    .limit(limit);
  return rows;
}

export type CardStatusExplained = CardStatusRecord & {
  /** Whether the newest version has reached the topic. */
  published: boolean;
  /** Why: the live match that allows or refuses the card, or the last one that ended. */
  reason:
    | { kind: 'LIVE_MATCH'; matchId: number; hesStatus: string | null; validFrom: Date }
    | { kind: 'MATCH_ENDED'; matchId: number; validTo: Date | null; retracted: boolean }
    | { kind: 'NEVER_MATCHED' };
};

/** `boarding status show CARD`: the card's status, since when, and why (no TC or HES). */
export async function explainCardStatus(
  db: Db,
  cardNo: string,
  at: Date,
): Promise<CardStatusExplained | null> {
  const [row] = await db
    .select({
      cardId: cards.id,
      cardNo: cards.cardNo,
      status: cardStatus.status,
      since: cardStatus.since,
      version: cardStatus.version,
    })
    .from(cards)
    .innerJoin(cardStatus, eq(cardStatus.cardId, cards.id))
    .where(eq(cards.cardNo, cardNo));
  if (!row) return null;
  const [newest] = await db
    .select({ sentAt: cardStatusOutbox.sentAt })
    .from(cardStatusOutbox)
    .where(and(eq(cardStatusOutbox.cardId, row.cardId), eq(cardStatusOutbox.version, row.version)))
    .orderBy(desc(cardStatusOutbox.id))
    .limit(1);
  const [last] = await db
    .select({
      id: matches.id,
      hesStatus: matches.hesStatus,
      validFrom: matches.validFrom,
      validTo: matches.validTo,
      retractedAt: matches.retractedAt,
    })
    .from(matches)
    .where(eq(matches.cardId, row.cardId))
    .orderBy(desc(matches.validFrom), desc(matches.id))
    .limit(1);
  const live =
    last &&
    last.retractedAt === null &&
    last.validFrom.getTime() <= at.getTime() &&
    (last.validTo === null || last.validTo.getTime() > at.getTime());
  const reason: CardStatusExplained['reason'] = !last
    ? { kind: 'NEVER_MATCHED' }
    : live
      ? { kind: 'LIVE_MATCH', matchId: last.id, hesStatus: last.hesStatus, validFrom: last.validFrom }
      : {
          kind: 'MATCH_ENDED',
          matchId: last.id,
          validTo: last.validTo,
          retracted: last.retractedAt !== null,
        };
  return {
    cardNo: row.cardNo,
    status: row.status,
    since: row.since,
    version: row.version,
    published: newest?.sentAt != null,
    reason,
  };
}
