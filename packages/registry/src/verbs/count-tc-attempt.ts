import { TcKimlikNo } from '@boarding/contracts/tc-kimlik';
import type { Db } from '@boarding/db/client';
import { tcAttempts } from '@boarding/db/schema';
import type { Keyring } from '@boarding/encryption/keyring';
import { lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import { parseInput } from '../input';
import { tcIndexOf } from '../pii';

export const CountTcAttemptInput = z.object({
  tcKimlikNo: TcKimlikNo,
  limit: z.number().int().positive(),
  windowMs: z.number().int().positive(),
});
export type CountTcAttemptInput = z.input<typeof CountTcAttemptInput>;

export type TcAttemptDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Counts one attempt on a TC kimlik no in the current window (windows aligned to `windowMs` since
 * the epoch, so every API process counts into the same row) and says whether it is within
 * `limit`. A refused attempt is counted too: retrying early only pushes nothing back, and the
 * window ends when it ends. One upsert, no transaction of its own: two processes racing both add.
 */
export async function countTcAttempt({
  ctx,
  input,
}: {
  ctx: { db: Db; keyring: Keyring; now?: () => Date };
  input: CountTcAttemptInput;
}): Promise<TcAttemptDecision> {
  const data = parseInput(CountTcAttemptInput, input);
  const now = (ctx.now?.() ?? new Date()).getTime();
  const windowStart = Math.floor(now / data.windowMs) * data.windowMs;
  const [row] = await ctx.db
    .insert(tcAttempts)
    .values({
      tcIndex: tcIndexOf(ctx.keyring, data.tcKimlikNo),
      windowStart: new Date(windowStart),
      count: 1,
    })
    .onConflictDoUpdate({
      target: [tcAttempts.tcIndex, tcAttempts.windowStart],
      set: { count: sql`${tcAttempts.count} + 1` },
    })
    .returning({ count: tcAttempts.count });
  if (!row) throw new Error('tc_attempts upsert returned no row');
  if (row.count <= data.limit) return { ok: true };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + data.windowMs - now) / 1000)) };
}

/** Drops the windows that ended before `before` (the API runs it now and then). */
export async function pruneTcAttempts({ ctx, before }: { ctx: { db: Db }; before: Date }): Promise<number> {
  const deleted = await ctx.db
    .delete(tcAttempts)
    .where(lt(tcAttempts.windowStart, before))
    .returning({ windowStart: tcAttempts.windowStart });
  return deleted.length;
}
