import type { HesStatus } from '@boarding/contracts/hes-code';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import { cards, matches, persons } from '@boarding/db/schema';
import { type HesVerifier, MAX_STATUS_BATCH } from '@boarding/hes/verifier';
import { and, asc, eq, gt, inArray, isNull, lte, ne, or } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudits } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { parseInput } from '../input';
import { openHes, openTc } from '../pii';

export const RefreshHesStatusesInput = z.object({
  /** Live matches per HES request and per transaction (keyset pages by match id). */
  batchSize: z.number().int().min(1).max(MAX_STATUS_BATCH).default(MAX_STATUS_BATCH),
});
export type RefreshHesStatusesInput = z.input<typeof RefreshHesStatusesInput>;

export type RefreshHesStatusesCounts = {
  /** Live matches whose HES status was asked. */
  checked: number;
  /** Matches whose stored hes_status was updated (each with a HES_STATUS_CHANGED audit row). */
  changed: number;
  /** Answers RISKY / RISKLESS, changed or not. */
  risky: number;
  riskless: number;
  /** The code no longer belongs to the TC (or is unknown): counted, status left as it was. */
  mismatched: number;
  /**
   * Answers that differed but whose match was ended, retracted or already updated by someone
   * else between the read and the write: left alone, the next refresh sees the new state.
   */
  superseded: number;
  batches: number;
};

/** A mismatch, masked (KVKK, SPEC §3; the card number too, contracts/mask): what a log line may carry. */
export type MaskedMismatch = { matchId: number; maskedCardNo: string; maskedTc: string; maskedHes: string };

export type RefreshHesStatusesProgress = RefreshHesStatusesCounts & {
  /** The mismatches of the batch just done. */
  batchMismatches: MaskedMismatch[];
};

type LiveMatch = {
  id: number;
  cardNo: string;
  personId: number;
  tcEnc: Buffer;
  hesEnc: Buffer;
  hesStatus: string | null;
};

/**
 * SPEC §10's scheduled refresh: asks the HES service for the status of every live match (not
 * retracted, valid now), `batchSize` at a time in match id order, and stores each status that
 * differs from the match's `hes_status`. The card status triggers (migration 0009) then put the
 * cards whose status changed (a holder turned risky → HES_RISKY, back → ALLOWED) in the outbox in
 * the same transaction, and the relay publishes them.
 *
 * This is the one in-place change of a match besides ending or retracting it: `hes_status` is
 * the Ministry's latest answer about the match's code, not a fact of the match's history (the
 * card, the person, the code and the range stay as they were), so the history keeps its rows
 * and the audit (`HES_STATUS_CHANGED`, from → to) keeps every change of the answer.
 *
 * Each batch: read (no lock), ask the service outside any transaction (never hold row locks over
 * a network call), then one transaction with the updates and their audit rows. An update only
 * applies while the match is still live and its status still differs: a match ended or retracted
 * meanwhile is left alone (`superseded`). When the service cannot answer, the verb rejects with
 * its HesServiceUnavailableError and the batch writes nothing; earlier batches stay committed
 * (each is complete on its own), and the next run starts again from the first match.
 */
export async function refreshHesStatuses({
  ctx,
  hes,
  input = {},
  onProgress,
  signal,
}: {
  ctx: RegistryContext;
  hes: Pick<HesVerifier, 'statuses'>;
  input?: RefreshHesStatusesInput;
  /** After each batch is committed: the running counts and the batch's masked mismatches. */
  onProgress?: (progress: RefreshHesStatusesProgress) => void;
  /** Stops between batches and aborts the request in flight (a job timeout). */
  signal?: AbortSignal;
}): Promise<RefreshHesStatusesCounts> {
  const data = parseInput(RefreshHesStatusesInput, input);
  const counts: RefreshHesStatusesCounts = {
    checked: 0,
    changed: 0,
    risky: 0,
    riskless: 0,
    mismatched: 0,
    superseded: 0,
    batches: 0,
  };
  let afterId = 0;
  for (;;) {
    signal?.throwIfAborted();
    const at = ctx.now?.() ?? new Date();
    const page = await readLiveMatches(ctx, afterId, at, data.batchSize);
    const last = page.at(-1);
    if (!last) return counts;
    afterId = last.id;

    const clear = page.map((m) => ({
      tcKimlikNo: openTc(ctx.keyring, m.tcEnc),
      hesCode: openHes(ctx.keyring, m.hesEnc),
    }));
    const answers = await hes.statuses(clear, { signal });
    // The contract is one answer per entry; anything else cannot be matched to the matches.
    if (answers.length !== page.length) {
      throw new Error(`the HES verifier gave ${answers.length} answers for ${page.length} entries`);
    }

    const toStore = new Map<HesStatus, (LiveMatch & { maskedHes: string })[]>([
      ['RISKY', []],
      ['RISKLESS', []],
    ]);
    const batchMismatches: MaskedMismatch[] = [];
    page.forEach((match, i) => {
      const answer = answers[i];
      const { tcKimlikNo, hesCode } = clear[i] ?? { tcKimlikNo: '', hesCode: '' };
      if (!answer || 'mismatch' in answer) {
        batchMismatches.push({
          matchId: match.id,
          maskedCardNo: maskCardNo(match.cardNo),
          maskedTc: maskTc(tcKimlikNo),
          maskedHes: maskHes(hesCode),
        });
        return;
      }
      if (answer.status === 'RISKY') counts.risky++;
      else counts.riskless++;
      if (match.hesStatus !== answer.status) {
        toStore.get(answer.status)?.push({ ...match, maskedHes: maskHes(hesCode) });
      }
    });
    counts.checked += page.length;
    counts.mismatched += batchMismatches.length;

    const differing = (toStore.get('RISKY')?.length ?? 0) + (toStore.get('RISKLESS')?.length ?? 0);
    if (differing > 0) {
      // "Still live" as of the write, not the read: a match ended while the service was asked is
      // no longer the card's, and its status is history now.
      const writeAt = ctx.now?.() ?? new Date();
      const changed = await inTransaction(ctx, async (tx) => {
        let n = 0;
        for (const [status, rows] of toStore) {
          if (rows.length === 0) continue;
          const updated = await tx
            .update(matches)
            .set({ hesStatus: status })
            .where(
              and(
                inArray(
                  matches.id,
                  rows.map((r) => r.id),
                ),
                isNull(matches.retractedAt),
                or(isNull(matches.validTo), gt(matches.validTo, writeAt)),
                or(isNull(matches.hesStatus), ne(matches.hesStatus, status)),
              ),
            )
            .returning({ id: matches.id });
          const done = new Set(updated.map((u) => u.id));
          // One statement for the batch's audit rows: the first refresh after a bulk import
          // audits every imported match (null → its status).
          await writeAudits(
            tx,
            ctx,
            rows
              .filter((row) => done.has(row.id))
              .map((row) => ({
                action: 'HES_STATUS_CHANGED' as const,
                cardNo: row.cardNo,
                personId: row.personId,
                matchId: row.id,
                detail: { hes: row.maskedHes, from: row.hesStatus, to: status },
              })),
          );
          n += done.size;
        }
        return n;
      });
      counts.changed += changed;
      counts.superseded += differing - changed;
    }
    counts.batches++;
    onProgress?.({ ...counts, batchMismatches });
    if (page.length < data.batchSize) return counts;
  }
}

/** The next page of live matches after `afterId`, with what the HES question needs. */
async function readLiveMatches(
  ctx: RegistryContext,
  afterId: number,
  at: Date,
  limit: number,
): Promise<LiveMatch[]> {
  return ctx.db
    .select({
      id: matches.id,
      cardNo: cards.cardNo,
      personId: matches.personId,
      tcEnc: persons.tcEnc,
      hesEnc: matches.hesEnc,
      hesStatus: matches.hesStatus,
    })
    .from(matches)
    .innerJoin(persons, eq(persons.id, matches.personId))
    .innerJoin(cards, eq(cards.id, matches.cardId))
    .where(
      and(
        gt(matches.id, afterId),
        isNull(matches.retractedAt),
        lte(matches.validFrom, at),
        or(isNull(matches.validTo), gt(matches.validTo, at)),
      ),
    )
    .orderBy(asc(matches.id))
    .limit(limit);
}
