import { apiKeys, locations, registryAudit } from '@boarding/db/schema';
import { withDbTransaction } from '@boarding/db/transaction';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiKeyContext, ApiKeyView } from '../api-keys/api-key-context';
import { ApiKeyError } from '../api-keys/api-key-errors';
import { ApiKeyChannel, channelNeedsLocation, hashApiKey, newApiKey } from '../api-keys/api-key-format';

export const CreateApiKeyInput = z.object({
  channel: ApiKeyChannel,
  locationId: z.string().min(1).max(64).optional(),
  label: z.string().trim().min(1).max(200).optional(),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

/**
 * A new key for one channel (SPEC §9). The key is returned here once and never again: only its
 * hash is stored. Audited (who, which channel and location) in the same transaction.
 */
export async function createApiKey({
  ctx,
  input,
}: {
  ctx: ApiKeyContext;
  input: CreateApiKeyInput;
}): Promise<ApiKeyView & { key: string }> {
  const parsed = CreateApiKeyInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || null;
    throw new ApiKeyError('INVALID_INPUT', `${field ?? 'input'}: ${issue?.message ?? 'invalid'}`, field);
  }
  const data = parsed.data;
  if (channelNeedsLocation(data.channel) && data.locationId === undefined) {
    throw new ApiKeyError('INVALID_INPUT', `a ${data.channel} key needs a location`, 'locationId');
  }
  if (!channelNeedsLocation(data.channel) && data.locationId !== undefined) {
    throw new ApiKeyError('INVALID_INPUT', `a ${data.channel} key takes no location`, 'locationId');
  }
  const { id, key } = newApiKey();
  const createdAt = ctx.now?.() ?? new Date();
  const row = await withDbTransaction(ctx.db.$client, async (tx) => {
    if (data.locationId !== undefined) {
      const [known] = await tx
        .select({ id: locations.id })
        .from(locations)
        .where(eq(locations.id, data.locationId));
      if (!known) {
        // Known ids only in the message: the input is not echoed (it could be anything typed).
        throw new ApiKeyError(
          'UNKNOWN_LOCATION',
          'unknown location (see `boarding apikey locations`)',
          'locationId',
        );
      }
    }
    const [inserted] = await tx
      .insert(apiKeys)
      .values({
        id,
        channel: data.channel,
        locationId: data.locationId ?? null,
        keyHash: hashApiKey(key),
        label: data.label ?? null,
        createdAt,
      })
      .returning();
    await tx.insert(registryAudit).values({
      actor: ctx.actor.id,
      channel: ctx.actor.channel,
      action: 'API_KEY_CREATE',
      detail: { keyId: id, keyChannel: data.channel, locationId: data.locationId ?? null },
    });
    return inserted;
  });
  if (!row) throw new Error('insert returned no row');
  return {
    id: row.id,
    channel: row.channel,
    locationId: row.locationId,
    label: row.label,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
    key,
  };
}
