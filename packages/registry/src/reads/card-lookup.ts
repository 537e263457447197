import { CardNo } from '@boarding/contracts/card-no';
import { maskCardNo } from '@boarding/contracts/mask';
import { cards, matches, persons } from '@boarding/db/schema';
import { and, asc, eq, gt, isNull, ne, or } from 'drizzle-orm';
import { z } from 'zod';
import type { RegistryContext } from '../context';
import { parseInput } from '../input';
import { type MatchView, toMatchView } from '../match-view';
import { openHes, openTc } from '../pii';
import { matchRecordColumns } from '../verbs/find-match-at';
import { redactFreeText } from './redact';

export const LookUpCardInput = z.object({ cardNo: CardNo, at: z.coerce.date() });
export type LookUpCardInput = z.input<typeof LookUpCardInput>;

/**
 * Why a card has (or has not) a match at an instant, as the as-of join of SPEC §3 would see it:
 * `MATCHED`; `UNKNOWN_CARD` (never in the registry); `NEVER_MATCHED` (known, but every match it
 * had was retracted); `RETRACTED` (a match covered the instant but was corrected away);
 * `ENDED` (the last match ended at or before it); `NOT_YET_STARTED` (the first starts after it).
 */
export type CardLookupStatus =
  | 'MATCHED'
  | 'UNKNOWN_CARD'
  | 'NEVER_MATCHED'
  | 'RETRACTED'
  | 'ENDED'
  | 'NOT_YET_STARTED';

/** How a match ended: a new card for the same person, a correction, or a plain unmatch. */
export type EndedHow = 'REPLACED' | 'CORRECTED' | 'UNMATCHED';

export type CardLookup = {
  /** The normalised card number the caller asked about (theirs already, so not masked). */
  cardNo: string;
  at: Date;
  status: CardLookupStatus;
  /** Masked: a lookup never returns clear TC or HES (`getCardHistory` with `reveal` does, audited). */
  match: MatchView | null;
  /** ENDED: when and how; `replacedBy` is the new card, masked like every card number we print. */
  ended?: { at: Date; how: EndedHow; replacedBy?: string };
  /** NOT_YET_STARTED: when the first match after `at` starts. */
  startsAt?: Date;
  /** RETRACTED: when and why the match that covered `at` was retracted. */
  retracted?: { at: Date; reason: string | null };
};

/**
 * The card's match at `at` and, when there is none, why: what a data engineer needs to explain an
 * unmatched tap. Reads only, masked, so no audit row (SPEC §3 audits reads of clear values).
 */
export async function lookUpCard({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: LookUpCardInput;
}): Promise<CardLookup> {
  const data = parseInput(LookUpCardInput, input);
  const base = { cardNo: data.cardNo, at: data.at };
  const [card] = await ctx.db.select({ id: cards.id }).from(cards).where(eq(cards.cardNo, data.cardNo));
  if (!card) return { ...base, status: 'UNKNOWN_CARD', match: null };

  // A card has a handful of matches: reading them all is cheaper than one query per question.
  const rows = await ctx.db
    .select({ ...matchRecordColumns, correctedBy: matches.correctedBy })
    .from(matches)
    .innerJoin(cards, eq(cards.id, matches.cardId))
    .innerJoin(persons, eq(persons.id, matches.personId))
    .where(eq(matches.cardId, card.id))
    .orderBy(asc(matches.validFrom), asc(matches.id));
  const t = data.at.getTime();
  const covers = (r: { validFrom: Date; validTo: Date | null }) =>
    r.validFrom.getTime() <= t && (r.validTo === null || r.validTo.getTime() > t);
  const live = rows.filter((r) => r.retractedAt === null);

  const current = live.find(covers);
  if (current) return { ...base, status: 'MATCHED', match: toMatchView(ctx.keyring, current, false) };

  const before = live.filter((r) => r.validTo !== null && r.validTo.getTime() <= t).at(-1);
  const retracted = rows.filter((r) => r.retractedAt !== null && covers(r)).at(-1);
  // A correction that shortened the match leaves both: the retracted row covering `at` and its
  // replacement ending before it. That is an end by correction, not a bare retraction.
  const shortenedByCorrection =
    retracted !== undefined && before !== undefined && retracted.correctedBy === before.id;
  if (retracted?.retractedAt && !shortenedByCorrection) {
    const reason = retracted.retractReason;
    return {
      ...base,
      status: 'RETRACTED',
      match: null,
      retracted: {
        at: retracted.retractedAt,
        reason:
          reason === null
            ? null
            : redactFreeText(reason, {
                tc: [openTc(ctx.keyring, retracted.tcEnc)],
                hes: [openHes(ctx.keyring, retracted.hesEnc)],
              }),
      },
    };
  }
  if (before?.validTo) {
    return { ...base, status: 'ENDED', match: null, ended: await howItEnded(ctx, before, before.validTo) };
  }
  const after = live.find((r) => r.validFrom.getTime() > t);
  if (after) return { ...base, status: 'NOT_YET_STARTED', match: null, startsAt: after.validFrom };
  return { ...base, status: 'NEVER_MATCHED', match: null };
}

/**
 * Told from the data, not the audit trail (the import writes one audit row per file): the person's
 * next card starting when this match ended is a replacement; a match of this card retracted with
 * a correction pointing at it is a correction; anything else an unmatch.
 */
async function howItEnded(
  ctx: RegistryContext,
  ended: { id: number; personId: number },
  endAt: Date,
): Promise<{ at: Date; how: EndedHow; replacedBy?: string }> {
  const [next] = await ctx.db
    .select({ cardNo: cards.cardNo })
    .from(matches)
    .innerJoin(cards, eq(cards.id, matches.cardId))
    .where(
      and(
        eq(matches.personId, ended.personId),
        isNull(matches.retractedAt),
        eq(matches.validFrom, endAt),
        ne(matches.id, ended.id),
      ),
    )
    .limit(1);
  if (next) return { at: endAt, how: 'REPLACED', replacedBy: maskCardNo(next.cardNo) };
  // correctMatch retracts the wrong row and points it (`corrected_by`) at its replacement: the
  // ended match is a correction's when the row it replaced ran on past its end.
  const [corrected] = await ctx.db
    .select({ id: matches.id })
    .from(matches)
    .where(and(eq(matches.correctedBy, ended.id), or(isNull(matches.validTo), gt(matches.validTo, endAt))))
    .limit(1);
  return { at: endAt, how: corrected ? 'CORRECTED' : 'UNMATCHED' };
}
