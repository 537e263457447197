import { locations } from '@boarding/db/schema';
import { asc } from 'drizzle-orm';
import type { ApiKeyContext } from '../api-keys/api-key-context';

/** The kiosk and activation-point locations a key can be bound to (seeded by migration 0007). */
export async function listLocations({
  ctx,
}: {
  ctx: Pick<ApiKeyContext, 'db'>;
}): Promise<{ id: string; kind: string; name: string }[]> {
  return ctx.db
    .select({ id: locations.id, kind: locations.kind, name: locations.name })
    .from(locations)
    .orderBy(asc(locations.id));
}
