import { CardNo } from '@boarding/contracts/card-no';
import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { cards, matches, persons } from '@boarding/db/schema';
import { asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { writeAudit } from '../audit';
import { inTransaction, type RegistryContext } from '../context';
import { parseInput } from '../input';
import { type MatchView, toMatchView } from '../match-view';
import { tcIndexOf } from '../pii';
import { matchRecordColumns } from './find-match-at';

export const GetMatchHistoryInput = z.union([
  z.object({ cardNo: CardNo, reveal: z.boolean().default(false) }),
  z.object({ tcKimlikNo: TcKimlikNo, reveal: z.boolean().default(false) }),
]);
export type GetMatchHistoryInput = z.input<typeof GetMatchHistoryInput>;

/** Every match of a card or of a person, retracted ones included, oldest first. */
export async function getMatchHistory({
  ctx,
  input,
}: {
  ctx: RegistryContext;
  input: GetMatchHistoryInput;
}): Promise<MatchView[]> {
  const data = parseInput(GetMatchHistoryInput, input);
  const where =
    'cardNo' in data
      ? eq(cards.cardNo, data.cardNo)
      : eq(persons.tcIndex, tcIndexOf(ctx.keyring, data.tcKimlikNo));
  const rows = await ctx.db
    .select(matchRecordColumns)
    .from(matches)
    .innerJoin(cards, eq(cards.id, matches.cardId))
    .innerJoin(persons, eq(persons.id, matches.personId))
    .where(where)
    .orderBy(asc(matches.validFrom), asc(matches.id));
  if (data.reveal && rows.length > 0) {
    await inTransaction(ctx, async (tx) => {
      for (const row of rows) {
        await writeAudit(tx, ctx, {
          action: 'READ_CLEAR',
          cardNo: row.cardNo,
          personId: row.personId,
          matchId: row.id,
          detail: { via: 'getMatchHistory' },
        });
      }
    });
  }
  return rows.map((row) => toMatchView(ctx.keyring, row, data.reveal));
}
