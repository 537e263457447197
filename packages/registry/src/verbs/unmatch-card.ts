import { CardNo } from '@boarding/contracts/card-no';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { parseInput } from '../input';
import { cardMatchAt, endMatch, findCard } from '../match-store';

export const UnmatchCardInput = z.object({
  cardNo: CardNo,
  at: z.coerce.date().optional(),
  /** Why, when staff end a match (kept in the audit, like a correction's). */
  reason: z.string().trim().min(5, 'a reason of at least 5 characters is required').max(500).optional(),
});
export type UnmatchCardInput = z.input<typeof UnmatchCardInput>;

/** End the card's current match at `at`; its taps from then on are unmatched. */
export async function unmatchCard({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: UnmatchCardInput;
}): Promise<{ endedMatchId: number }> {
  const data = parseInput(UnmatchCardInput, input);
  const at = data.at ?? ctx.now?.() ?? new Date();
  return inTransaction(ctx, async (tx) => {
    const card = await findCard(tx, data.cardNo);
    const current = card && (await cardMatchAt(tx, card.id, at));
    if (!current) throw new RegistryError('NO_CURRENT_MATCH', 'the card has no match at that time');
    await endMatch(tx, current, at);
    await writeAudit(tx, ctx, {
      action: 'UNMATCH_CARD',
      cardNo: data.cardNo,
      personId: current.personId,
      matchId: current.id,
      detail: { to: at.toISOString(), ...(data.reason === undefined ? {} : { reason: data.reason }) },
    });
    return { endedMatchId: current.id };
  });
}
