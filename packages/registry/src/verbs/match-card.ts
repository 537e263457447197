import { CardKind, CardNo } from '@boarding/contracts/card-no';
import { HesCode, HesStatus } from '@boarding/contracts/hes-code';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { matchOverlapError, RegistryError } from '../errors';
import { parseInput } from '../input';
import { cardMatchAt, endMatch, ensureCard, ensurePerson, insertMatch, personMatchAt } from '../match-store';
import { hesIndexOf } from '../pii';

export const MatchCardInput = z.object({
  cardNo: CardNo,
  cardKind: CardKind,
  tcKimlikNo: TcKimlikNo,
  hesCode: HesCode,
  /** When the match starts; default now. */
  at: z.coerce.date().optional(),
  /** The HES service's answer for the code, when it was asked (the API always asks). */
  hesStatus: HesStatus.optional(),
});
export type MatchCardInput = z.input<typeof MatchCardInput>;

export type MatchCardResult = { matchId: number; outcome: 'MATCHED' | 'UNCHANGED'; endedMatchIds: number[] };

/**
 * Match a card to a person and HES code from `at` on (web site, kiosk, activation point).
 * SPEC §3: a person has one card at a time, so the person's previous card match ends here (a
 * lost or replaced card). A card matched to somebody else is refused: that match must end first.
 * The same card, person and HES again is a no-op.
 */
export async function matchCard({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: MatchCardInput;
}): Promise<MatchCardResult> {
  const data = parseInput(MatchCardInput, input);
  const at = data.at ?? ctx.now?.() ?? new Date();
  return inTransaction(ctx, async (tx) => {
    const cardId = await ensureCard(tx, data.cardNo, data.cardKind);
    const personId = await ensurePerson(tx, ctx, data.tcKimlikNo);
    const ended: number[] = [];
    const onCard = await cardMatchAt(tx, cardId, at);
    if (onCard && onCard.personId !== personId) {
      throw new RegistryError(
        'CARD_MATCHED_TO_ANOTHER_PERSON',
        `card ${maskCardNo(data.cardNo)} is matched to another person; that match must end first`,
      );
    }
    if (onCard?.hesIndex.equals(hesIndexOf(ctx.keyring, data.hesCode))) {
      return { matchId: onCard.id, outcome: 'UNCHANGED' as const, endedMatchIds: [] };
    }
    if (onCard) {
      await endMatch(tx, onCard, at);
      ended.push(onCard.id);
    }
    const onPerson = await personMatchAt(tx, personId, at);
    if (onPerson && onPerson.id !== onCard?.id) {
      // Another card of the person's from this very instant (typically another channel's match
      // committed a moment ago, the race this verb loses): there is no earlier instant to end it
      // at, so the two overlap. Reported as the exclusion constraint would, not as EMPTY_RANGE.
      if (onPerson.validFrom.getTime() >= at.getTime()) throw matchOverlapError('matches_one_per_person');
      await endMatch(tx, onPerson, at);
      ended.push(onPerson.id);
    }
    const created = await insertMatch(tx, ctx, {
      cardId,
      personId,
      hesCode: data.hesCode,
      validFrom: at,
      validTo: null,
      hesStatus: data.hesStatus ?? null,
    });
    await writeAudit(tx, ctx, {
      action: 'MATCH_CARD',
      cardNo: data.cardNo,
      personId,
      matchId: created.id,
      detail: {
        tc: maskTc(data.tcKimlikNo),
        hes: maskHes(data.hesCode),
        kind: data.cardKind,
        ...(data.hesStatus ? { hesStatus: data.hesStatus } : {}),
        from: at.toISOString(),
        endedMatchIds: ended,
      },
    });
    return { matchId: created.id, outcome: 'MATCHED' as const, endedMatchIds: ended };
  });
}
