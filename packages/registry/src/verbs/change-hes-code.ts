import { CardNo } from '@boarding/contracts/card-no';
import { HesCode, HesStatus } from '@boarding/contracts/hes-code';
import { maskHes } from '@boarding/contracts/mask';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { parseInput } from '../input';
import { cardMatchAt, endMatch, findCard, heldBy, insertMatch } from '../match-store';
import { hesIndexOf } from '../pii';

export const ChangeHesCodeInput = z.object({
  cardNo: CardNo,
  hesCode: HesCode,
  at: z.coerce.date().optional(),
  /**
   * The card's holder, when the change comes from the holder (SPEC §9: a citizen gives the TC and
   * the card together): a card matched to anybody else answers NO_CURRENT_MATCH, as an unmatched
   * one does, so the API tells a stranger nothing about the card.
   */
  tcKimlikNo: TcKimlikNo.optional(),
  /** The HES service's answer for the new code, when it was asked. */
  hesStatus: HesStatus.optional(),
});
export type ChangeHesCodeInput = z.input<typeof ChangeHesCodeInput>;

/** A new HES code for the card's current match from `at`: the old match ends, a new one starts. */
export async function changeHesCode({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: ChangeHesCodeInput;
}): Promise<{ matchId: number; outcome: 'CHANGED' | 'UNCHANGED'; endedMatchId: number | null }> {
  const data = parseInput(ChangeHesCodeInput, input);
  const at = data.at ?? ctx.now?.() ?? new Date();
  return inTransaction(ctx, async (tx) => {
    const card = await findCard(tx, data.cardNo);
    const current = card && (await cardMatchAt(tx, card.id, at));
    if (!current || !(await heldBy(tx, ctx, current, data.tcKimlikNo))) {
      throw new RegistryError('NO_CURRENT_MATCH', 'the card has no match at that time');
    }
    if (current.hesIndex.equals(hesIndexOf(ctx.keyring, data.hesCode))) {
      return { matchId: current.id, outcome: 'UNCHANGED' as const, endedMatchId: null };
    }
    await endMatch(tx, current, at);
    const created = await insertMatch(tx, ctx, {
      cardId: current.cardId,
      personId: current.personId,
      hesCode: data.hesCode,
      validFrom: at,
      validTo: current.validTo,
      hesStatus: data.hesStatus ?? null,
    });
    await writeAudit(tx, ctx, {
      action: 'CHANGE_HES_CODE',
      cardNo: data.cardNo,
      personId: current.personId,
      matchId: created.id,
      detail: {
        hes: maskHes(data.hesCode),
        ...(data.hesStatus ? { hesStatus: data.hesStatus } : {}),
        from: at.toISOString(),
        endedMatchId: current.id,
      },
    });
    return { matchId: created.id, outcome: 'CHANGED' as const, endedMatchId: current.id };
  });
}
