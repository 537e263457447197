import { apiKeys } from '@boarding/db/schema';
import { asc } from 'drizzle-orm';
import type { ApiKeyContext, ApiKeyView } from '../api-keys/api-key-context';

/** Every key, revoked ones too, oldest first; never the key nor its hash. */
export async function listApiKeys({ ctx }: { ctx: Pick<ApiKeyContext, 'db'> }): Promise<ApiKeyView[]> {
  return ctx.db
    .select({
      id: apiKeys.id,
      channel: apiKeys.channel,
      locationId: apiKeys.locationId,
      label: apiKeys.label,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}
