import { apiKeys, registryAudit } from '@boarding/db/schema';
import { withDbTransaction } from '@boarding/db/transaction';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiKeyContext } from '../api-keys/api-key-context';
import { ApiKeyError } from '../api-keys/api-key-errors';

export const RevokeApiKeyInput = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/) });
export type RevokeApiKeyInput = z.input<typeof RevokeApiKeyInput>;

/**
 * Revoke a key from now on. Idempotent: revoking a revoked key keeps its first revocation time
 * (`alreadyRevoked` says so). Audited in the same transaction.
 */
export async function revokeApiKey({
  ctx,
  input,
}: {
  ctx: ApiKeyContext;
  input: RevokeApiKeyInput;
}): Promise<{ id: string; revokedAt: Date; alreadyRevoked: boolean }> {
  const parsed = RevokeApiKeyInput.safeParse(input);
  if (!parsed.success)
    throw new ApiKeyError('INVALID_INPUT', 'id: must be a key id (12 hex characters)', 'id');
  const { id } = parsed.data;
  const at = ctx.now?.() ?? new Date();
  return withDbTransaction(ctx.db.$client, async (tx) => {
    const [row] = await tx
      .select({ revokedAt: apiKeys.revokedAt })
      .from(apiKeys)
      .where(eq(apiKeys.id, id))
      .for('update');
    if (!row) throw new ApiKeyError('API_KEY_NOT_FOUND', `no API key ${id}`, 'id');
    if (row.revokedAt) return { id, revokedAt: row.revokedAt, alreadyRevoked: true };
    await tx
      .update(apiKeys)
      .set({ revokedAt: sql`${at.toISOString()}::timestamptz` })
      .where(eq(apiKeys.id, id));
    await tx.insert(registryAudit).values({
      actor: ctx.actor.id,
      channel: ctx.actor.channel,
      action: 'API_KEY_REVOKE',
      detail: { keyId: id },
    });
    return { id, revokedAt: at, alreadyRevoked: false };
  });
}
