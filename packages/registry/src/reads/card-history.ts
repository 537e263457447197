import { CardNo } from '@boarding/contracts/card-no';
import { cards, matches, persons } from '@boarding/db/schema';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { parseInput } from '../input';
import { type MatchView, toMatchView } from '../match-view';
import { openHes, openTc } from '../pii';
import { matchRecordColumns } from '../verbs/find-match-at';
import { redactFreeText } from './redact';

export const REVEAL_REASON_MIN = 10;

export const GetCardHistoryInput = z.discriminatedUnion('reveal', [
  z.object({ cardNo: CardNo, reveal: z.literal(false).default(false) }),
  z.object({
    cardNo: CardNo,
    reveal: z.literal(true),
    /** Why clear values are read (an investigation, a ticket): kept in the audit row. */
    reason: z
      .string()
      .trim()
      .min(REVEAL_REASON_MIN, `a reason of at least ${REVEAL_REASON_MIN} characters is required`)
      .max(500),
  }),
]);
export type GetCardHistoryInput = z.input<typeof GetCardHistoryInput>;

export type CardHistory = {
  cardNo: string;
  /** False when the card is not in the registry at all. */
  known: boolean;
  revealed: boolean;
  /** Oldest first, retracted matches included (with their reason); masked unless revealed. */
  matches: MatchView[];
};

/**
 * Every match of one card. With `reveal`, TC and HES come back in clear and exactly one
 * `READ_CLEAR` audit row (who, the reason, which matches) commits in the same transaction as the
 * read (SPEC §3: every read of clear values outside the export is audited): no clear value leaves
 * without its record.
 */
export async function getCardHistory({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: GetCardHistoryInput;
}): Promise<CardHistory> {
  const data = parseInput(GetCardHistoryInput, input);
  return inTransaction(ctx, async (tx) => {
    const [card] = await tx.select({ id: cards.id }).from(cards).where(eq(cards.cardNo, data.cardNo));
    if (!card) return { cardNo: data.cardNo, known: false, revealed: data.reveal, matches: [] };
    const rows = await tx
      .select(matchRecordColumns)
      .from(matches)
      .innerJoin(cards, eq(cards.id, matches.cardId))
      .innerJoin(persons, eq(persons.id, matches.personId))
      .where(eq(matches.cardId, card.id))
      .orderBy(asc(matches.validFrom), asc(matches.id));
    if (data.reveal) {
      await writeAudit(tx, ctx, {
        action: 'READ_CLEAR',
        cardNo: data.cardNo,
        detail: {
          via: 'getCardHistory',
          // Free text typed by a person: masked in case someone pasted a TC or HES into it.
          reason: redactFreeText(data.reason, {
            tc: rows.map((r) => openTc(ctx.keyring, r.tcEnc)),
            hes: rows.map((r) => openHes(ctx.keyring, r.hesEnc)),
          }),
          matchIds: rows.map((r) => r.id),
        },
      });
    }
    return {
      cardNo: data.cardNo,
      known: true,
      revealed: data.reveal,
      matches: rows.map((r) => {
        const view = toMatchView(ctx.keyring, r, data.reveal);
        if (data.reveal || view.retractReason === null) return view;
        // A correction's reason is free text: a masked read masks what was pasted into it too.
        const clear = { tc: [openTc(ctx.keyring, r.tcEnc)], hes: [openHes(ctx.keyring, r.hesEnc)] };
        return { ...view, retractReason: redactFreeText(view.retractReason, clear) };
      }),
    };
  });
}
