import { CardKind, CardNo } from '@boarding/contracts/card-no';
import { HesStatus } from '@boarding/contracts/hes-code';
import { maskCardNo } from '@boarding/contracts/mask';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { parseInput } from '../input';
import {
  cardMatchAt,
  cardNoOf,
  endMatch,
  ensureCard,
  findCard,
  findPersonId,
  insertMatch,
  personMatchAt,
} from '../match-store';
import { openHes } from '../pii';

export const ReplaceCardInput = z.object({
  tcKimlikNo: TcKimlikNo,
  newCardNo: CardNo,
  newCardKind: CardKind,
  at: z.coerce.date().optional(),
  /**
   * The card being replaced, when the holder asks (SPEC §9: the TC and the card together): the
   * person's current card must be this one, else NO_CURRENT_MATCH.
   */
  cardNo: CardNo.optional(),
});
export type ReplaceCardInput = z.input<typeof ReplaceCardInput>;

/**
 * A lost or replaced card: the person's current match ends and the new card carries the same
 * HES code from `at`. The new card must not be matched to anybody at that time.
 */
export async function replaceCard({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: ReplaceCardInput;
}): Promise<{ matchId: number; endedMatchId: number }> {
  const data = parseInput(ReplaceCardInput, input);
  const at = data.at ?? ctx.now?.() ?? new Date();
  return inTransaction(ctx, async (tx) => {
    const personId = await findPersonId(tx, ctx, data.tcKimlikNo);
    const current = personId === undefined ? undefined : await personMatchAt(tx, personId, at);
    const currentCard = current && data.cardNo !== undefined ? await findCard(tx, data.cardNo) : undefined;
    if (
      personId === undefined ||
      !current ||
      (data.cardNo !== undefined && currentCard?.id !== current.cardId)
    ) {
      throw new RegistryError('NO_CURRENT_MATCH', 'the person has no card matched at that time');
    }
    const cardId = await ensureCard(tx, data.newCardNo, data.newCardKind);
    if (await cardMatchAt(tx, cardId, at)) {
      throw new RegistryError(
        'CARD_MATCHED_TO_ANOTHER_PERSON',
        `card ${maskCardNo(data.newCardNo)} is already matched at that time`,
      );
    }
    await endMatch(tx, current, at);
    const oldCardNo = await cardNoOf(tx, current.cardId);
    const created = await insertMatch(tx, ctx, {
      cardId,
      personId,
      hesCode: openHes(ctx.keyring, current.hesEnc),
      validFrom: at,
      validTo: null,
      // The same HES code, so the same answer of the HES service.
      hesStatus: HesStatus.safeParse(current.hesStatus).data ?? null,
    });
    await writeAudit(tx, ctx, {
      action: 'REPLACE_CARD',
      cardNo: data.newCardNo,
      personId,
      matchId: created.id,
      detail: { oldCard: maskCardNo(oldCardNo), from: at.toISOString(), endedMatchId: current.id },
    });
    return { matchId: created.id, endedMatchId: current.id };
  });
}
