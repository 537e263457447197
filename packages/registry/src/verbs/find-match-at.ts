import { CardNo } from '@boarding/contracts/card-no';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { cards, matches, persons } from '@boarding/db/schema';
import { and, desc, eq, gt, isNull, lte, or } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { parseInput } from '../input';
import { type MatchView, toMatchView } from '../match-view';
import { tcIndexOf } from '../pii';

export const FindMatchAtInput = z.object({
  cardNo: CardNo,
  at: z.coerce.date(),
  /** Return TC and HES in clear. Audited; for staffed channels and investigations only. */
  reveal: z.boolean().default(false),
  /**
   * Only this person's match (a citizen's "my match", SPEC §9: the TC and the card together):
   * null when the card is unmatched or matched to somebody else, the two told apart by nobody.
   */
  tcKimlikNo: TcKimlikNo.optional(),
});
export type FindMatchAtInput = z.input<typeof FindMatchAtInput>;

export const matchRecordColumns = {
  id: matches.id,
  cardNo: cards.cardNo,
  cardKind: cards.kind,
  personId: matches.personId,
  tcEnc: persons.tcEnc,
  hesEnc: matches.hesEnc,
  validFrom: matches.validFrom,
  validTo: matches.validTo,
  retractedAt: matches.retractedAt,
  retractReason: matches.retractReason,
  channel: matches.channel,
  hesStatus: matches.hesStatus,
};

/**
 * The as-of lookup of SPEC §3: the live match of the card whose [valid_from, valid_to) holds
 * `at` (valid_from inclusive, valid_to exclusive), or null when the tap would be unmatched.
 * Served by matches_card_asof_idx (card_id, valid_from desc, INCLUDE id, valid_to, hes_status).
 */
export async function findMatchAt({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: FindMatchAtInput;
}): Promise<MatchView | null> {
  const data = parseInput(FindMatchAtInput, input);
  const [row] = await ctx.db
    .select(matchRecordColumns)
    .from(matches)
    .innerJoin(cards, eq(cards.id, matches.cardId))
    .innerJoin(persons, eq(persons.id, matches.personId))
    .where(
      and(
        eq(cards.cardNo, data.cardNo),
        data.tcKimlikNo === undefined
          ? undefined
          : eq(persons.tcIndex, tcIndexOf(ctx.keyring, data.tcKimlikNo)),
        isNull(matches.retractedAt),
        lte(matches.validFrom, data.at),
        or(isNull(matches.validTo), gt(matches.validTo, data.at)),
      ),
    )
    .orderBy(desc(matches.validFrom))
    .limit(1);
  if (!row) return null;
  if (data.reveal) {
    await inTransaction(ctx, (tx) =>
      writeAudit(tx, ctx, {
        action: 'READ_CLEAR',
        cardNo: row.cardNo,
        personId: row.personId,
        matchId: row.id,
        detail: { via: 'findMatchAt', at: data.at.toISOString() },
      }),
    );
  }
  return toMatchView(ctx.keyring, row, data.reveal);
}
