import type { HesStatus } from '@boarding/contracts/hes-code';
import { cards, matches, persons } from '@boarding/db/schema';
import { and, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import type { RegistryContext, Tx } from './context';
import { RegistryError } from './errors';
import { sealHes, sealTc, tcIndexOf } from './pii';

export type MatchRow = typeof matches.$inferSelect;

/** The card's id, creating the card on first sight; a card's kind never silently changes. */
export async function ensureCard(tx: Tx, cardNo: string, kind: 'PERSONAL' | 'ANONYMOUS'): Promise<number> {
  await tx.insert(cards).values({ cardNo, kind }).onConflictDoNothing();
  const [row] = await tx
    .select({ id: cards.id, kind: cards.kind })
    .from(cards)
    .where(eq(cards.cardNo, cardNo));
  if (!row) throw new Error('card upsert returned no row');
  if (row.kind !== kind) {
    throw new RegistryError('CARD_KIND_CONFLICT', `card is registered as ${row.kind}, not ${kind}`);
  }
  return row.id;
}

export async function findCard(tx: Tx, cardNo: string): Promise<{ id: number; cardNo: string } | undefined> {
  const [row] = await tx
    .select({ id: cards.id, cardNo: cards.cardNo })
    .from(cards)
    .where(eq(cards.cardNo, cardNo));
  return row;
}

export async function cardNoOf(tx: Tx, cardId: number): Promise<string> {
  const [row] = await tx.select({ cardNo: cards.cardNo }).from(cards).where(eq(cards.id, cardId));
  if (!row) throw new Error(`card ${cardId} does not exist`);
  return row.cardNo;
}

/** The person's id by TC (blind index), creating the person on first sight. */
export async function ensurePerson(tx: Tx, ctx: RegistryContext, tc: string): Promise<number> {
  const sealed = sealTc(ctx.keyring, tc);
  // "do update" (a no-op) rather than "do nothing", so the id comes back either way.
  const [row] = await tx
    .insert(persons)
    .values({ tcIndex: sealed.index, tcEnc: sealed.enc })
    .onConflictDoUpdate({ target: persons.tcIndex, set: { tcIndex: sql`excluded.tc_index` } })
    .returning({ id: persons.id });
  if (!row) throw new Error('person upsert returned no row');
  return row.id;
}

export async function findPersonId(tx: Tx, ctx: RegistryContext, tc: string): Promise<number | undefined> {
  const [row] = await tx
    .select({ id: persons.id })
    .from(persons)
    .where(eq(persons.tcIndex, tcIndexOf(ctx.keyring, tc)));
  return row?.id;
}

const liveAt = (at: Date) =>
  and(
    isNull(matches.retractedAt),
    lte(matches.validFrom, at),
    or(isNull(matches.validTo), gt(matches.validTo, at)),
  );

/** The match in force at `at` for a card, locked for this transaction. */
export async function cardMatchAt(tx: Tx, cardId: number, at: Date): Promise<MatchRow | undefined> {
  const [row] = await tx
    .select()
    .from(matches)
    .where(and(eq(matches.cardId, cardId), liveAt(at)))
    .for('update');
  return row;
}

/** The match in force at `at` for a person, locked for this transaction. */
export async function personMatchAt(tx: Tx, personId: number, at: Date): Promise<MatchRow | undefined> {
  const [row] = await tx
    .select()
    .from(matches)
    .where(and(eq(matches.personId, personId), liveAt(at)))
    .for('update');
  return row;
}

/**
 * Whether the match is the person's with this TC kimlik no; true when no TC is given (a staff or
 * import change, not the holder's own).
 */
export async function heldBy(
  tx: Tx,
  ctx: RegistryContext,
  match: MatchRow,
  tcKimlikNo: string | undefined,
): Promise<boolean> {
  if (tcKimlikNo === undefined) return true;
  return (await findPersonId(tx, ctx, tcKimlikNo)) === match.personId;
}

/** End a match at `at` (history kept: the row is closed, never rewritten). */
export async function endMatch(tx: Tx, match: MatchRow, at: Date): Promise<void> {
  if (at.getTime() <= match.validFrom.getTime()) {
    throw new RegistryError(
      'EMPTY_RANGE',
      `cannot end match ${match.id} at or before its start; correct it instead (correctMatch)`,
    );
  }
  await tx.update(matches).set({ validTo: at }).where(eq(matches.id, match.id));
}

export async function insertMatch(
  tx: Tx,
  ctx: RegistryContext,
  values: {
    cardId: number;
    personId: number;
    hesCode: string;
    validFrom: Date;
    validTo: Date | null;
    /** The HES service's answer, when it was asked (SPEC §9). */
    hesStatus?: HesStatus | null;
  },
): Promise<MatchRow> {
  const hes = sealHes(ctx.keyring, values.hesCode);
  const [row] = await tx
    .insert(matches)
    .values({
      cardId: values.cardId,
      personId: values.personId,
      hesEnc: hes.enc,
      hesIndex: hes.index,
      validFrom: values.validFrom,
      validTo: values.validTo,
      channel: ctx.actor.channel,
      actor: ctx.actor.id,
      hesStatus: values.hesStatus ?? null,
    })
    .returning();
  if (!row) throw new Error('match insert returned no row');
  return row;
}
