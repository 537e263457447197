import { CardNo } from '@boarding/contracts/card-no';
import { HesCode } from '@boarding/contracts/hes-code';
import { maskHes } from '@boarding/contracts/mask';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { parseInput } from '../input';
import { cardMatchAt, endMatch, findCard, insertMatch } from '../match-store';
import { hesIndexOf } from '../pii';

export const ChangeHesCodeInput = z.object({
  cardNo: CardNo,
  hesCode: HesCode,
  at: z.coerce.date().optional(),
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
    if (!current) throw new RegistryError('NO_CURRENT_MATCH', 'the card has no match at that time');
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
    });
    await writeAudit(tx, ctx, {
      action: 'CHANGE_HES_CODE',
      cardNo: data.cardNo,
      personId: current.personId,
      matchId: created.id,
      detail: { hes: maskHes(data.hesCode), from: at.toISOString(), endedMatchId: current.id },
    });
    return { matchId: created.id, outcome: 'CHANGED' as const, endedMatchId: current.id };
  });
}
