import { apiKeys } from '@boarding/db/schema';
import { eq } from 'drizzle-orm';
import type { ApiKeyContext } from '../api-keys/api-key-context';
import { type ApiKeyChannel, apiKeyId, apiKeyMatches } from '../api-keys/api-key-format';

export type ApiClient = { keyId: string; channel: ApiKeyChannel; locationId: string | null };

/**
 * The client a presented key belongs to, or null: malformed, unknown, wrong secret and revoked
 * all answer the same null, so a caller cannot tell which (no key-id probing). The hash is
 * compared in constant time.
 */
export async function authenticateApiKey({
  ctx,
  key,
}: {
  ctx: Pick<ApiKeyContext, 'db'>;
  key: string;
}): Promise<ApiClient | null> {
  const id = apiKeyId(key);
  if (id === null) return null;
  const [row] = await ctx.db
    .select({
      id: apiKeys.id,
      channel: apiKeys.channel,
      locationId: apiKeys.locationId,
      keyHash: apiKeys.keyHash,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.id, id));
  if (!row || !apiKeyMatches(key, row.keyHash) || row.revokedAt !== null) return null;
  return { keyId: row.id, channel: row.channel, locationId: row.locationId };
}
