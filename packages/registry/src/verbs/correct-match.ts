import { CardKind, CardNo } from '@boarding/contracts/card-no';
import { HesCode } from '@boarding/contracts/hes-code';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { matches } from '@boarding/db/schema';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { RegistryError } from '../errors';
import { parseInput } from '../input';
import { cardNoOf, ensureCard, ensurePerson, insertMatch } from '../match-store';
import { openHes } from '../pii';

export const CorrectMatchInput = z.object({
  matchId: z.number().int().positive(),
  reason: z.string().trim().min(5, 'a reason of at least 5 characters is required').max(500),
  /** The corrected match; null retracts the match without replacement (it never existed). */
  replacement: z
    .object({
      cardNo: CardNo.optional(),
      cardKind: CardKind.optional(),
      tcKimlikNo: TcKimlikNo.optional(),
      hesCode: HesCode.optional(),
      validFrom: z.coerce.date().optional(),
      validTo: z.coerce.date().nullable().optional(),
    })
    .nullable(),
});
export type CorrectMatchInput = z.input<typeof CorrectMatchInput>;

/**
 * An administrative correction, possibly back-dated: the wrong match is retracted (kept, with
 * the reason) and the corrected one inserted in the same transaction. The exclusion rules still
 * hold for the corrected match against every other live match. A correction changes what the
 * export builds for past days (SPEC §5: a new version of the affected days).
 */
export async function correctMatch({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: CorrectMatchInput;
}): Promise<{ retractedMatchId: number; matchId: number | null }> {
  const data = parseInput(CorrectMatchInput, input);
  const now = ctx.now?.() ?? new Date();
  return inTransaction(ctx, async (tx) => {
    const [old] = await tx.select().from(matches).where(eq(matches.id, data.matchId)).for('update');
    if (!old) throw new RegistryError('MATCH_NOT_FOUND', `match ${data.matchId} does not exist`);
    if (old.retractedAt)
      throw new RegistryError('MATCH_NOT_FOUND', `match ${data.matchId} was already retracted`);
    await tx
      .update(matches)
      .set({ retractedAt: now, retractReason: data.reason })
      .where(eq(matches.id, old.id));
    const oldCardNo = await cardNoOf(tx, old.cardId);
    let created: { id: number; cardNo: string } | null = null;
    const r = data.replacement;
    if (r) {
      const cardNo = r.cardNo ?? oldCardNo;
      const cardId = r.cardNo ? await ensureCard(tx, cardNo, r.cardKind ?? 'PERSONAL') : old.cardId;
      const personId = r.tcKimlikNo ? await ensurePerson(tx, ctx, r.tcKimlikNo) : old.personId;
      const validFrom = r.validFrom ?? old.validFrom;
      const validTo = r.validTo === undefined ? old.validTo : r.validTo;
      if (validTo && validTo.getTime() <= validFrom.getTime()) {
        throw new RegistryError('EMPTY_RANGE', 'validTo must be after validFrom');
      }
      const inserted = await insertMatch(tx, ctx, {
        cardId,
        personId,
        hesCode: r.hesCode ?? openHes(ctx.keyring, old.hesEnc),
        validFrom,
        validTo,
      });
      created = { id: inserted.id, cardNo };
      await tx.update(matches).set({ correctedBy: created.id }).where(eq(matches.id, old.id));
    }
    await writeAudit(tx, ctx, {
      action: 'CORRECT_MATCH',
      cardNo: oldCardNo,
      personId: old.personId,
      matchId: old.id,
      detail: {
        reason: data.reason,
        retracted: { id: old.id, from: old.validFrom.toISOString(), to: old.validTo?.toISOString() ?? null },
        replacement: created && {
          id: created.id,
          card: maskCardNo(created.cardNo),
          tc: r?.tcKimlikNo ? maskTc(r.tcKimlikNo) : undefined,
          hes: r?.hesCode ? maskHes(r.hesCode) : undefined,
          from: (r?.validFrom ?? old.validFrom).toISOString(),
        },
      },
    });
    return { retractedMatchId: old.id, matchId: created?.id ?? null };
  });
}
