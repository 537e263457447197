import { apiKeys, registryAudit } from '@boarding/db/schema';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { eq } from 'drizzle-orm';
import type { ApiKeyContext } from '../api-keys/api-key-context';
import { hashApiKey } from '../api-keys/api-key-format';
import { authenticateApiKey } from './authenticate-api-key';
import { createApiKey } from './create-api-key';
import { listApiKeys } from './list-api-keys';
import { listLocations } from './list-locations';
import { revokeApiKey } from './revoke-api-key';

describe('API keys (SPEC §9)', () => {
  let database: TestDatabase;
  let ctx: ApiKeyContext;

  beforeAll(async () => {
    database = await createTestDatabase('api_keys');
    ctx = { db: database.db, actor: { id: 'tester', channel: 'ADMIN' } };
  });
  afterAll(() => database.drop());

  it('seeds the twelve real activation points of SPEC §1', async () => {
    const ids = (await listLocations({ ctx })).map((l) => l.id);
    expect(ids).toEqual([
      'bus-fahrettin-altay',
      'bus-konak-bahri-baba',
      'metro-bornova',
      'metro-cankaya',
      'metro-fahrettin-altay',
      'metro-goztepe',
      'metro-halkapinar',
      'metro-konak',
      'metro-ucyol',
      'pier-bostanli',
      'pier-karsiyaka',
      'pier-konak',
    ]);
  });

  it('creates a kiosk key at a known location, stores only its hash, audits it and authenticates it', async () => {
    const created = await createApiKey({
      ctx,
      input: { channel: 'KIOSK', locationId: 'pier-konak', label: 'Konak pier kiosk 1' },
    });
    const [row] = await database.db.select().from(apiKeys).where(eq(apiKeys.id, created.id));
    expect(row?.keyHash.equals(hashApiKey(created.key))).toBe(true);
    expect(JSON.stringify(row)).not.toContain(created.key.slice(16));
    const audit = await database.db
      .select()
      .from(registryAudit)
      .where(eq(registryAudit.action, 'API_KEY_CREATE'));
    expect(audit.map((a) => a.detail)).toContainEqual({
      keyId: created.id,
      keyChannel: 'KIOSK',
      locationId: 'pier-konak',
    });
    expect(await authenticateApiKey({ ctx, key: created.key })).toEqual({
      keyId: created.id,
      channel: 'KIOSK',
      locationId: 'pier-konak',
    });
  });

  it('refuses a kiosk key at an unknown location, one without a location, and a web key with one', async () => {
    await expect(
      createApiKey({ ctx, input: { channel: 'KIOSK', locationId: "x'; drop table api_keys; --" } }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_LOCATION', field: 'locationId' });
    await expect(createApiKey({ ctx, input: { channel: 'ACTIVATION_POINT' } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'locationId',
    });
    await expect(
      createApiKey({ ctx, input: { channel: 'WEB', locationId: 'metro-bornova' } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'locationId' });
    await expect(createApiKey({ ctx, input: { channel: 'ADMIN' as 'WEB' } })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      field: 'channel',
    });
  });

  it('the database itself refuses a kiosk key without a location', async () => {
    await expect(
      database.db.insert(apiKeys).values({ id: 'aaaaaaaaaaaa', channel: 'KIOSK', keyHash: Buffer.alloc(32) }),
    ).rejects.toMatchObject({ cause: { constraint: 'api_keys_location_by_channel' } });
  });

  it('rejects a wrong secret for a real id, and an unknown or malformed key, all alike', async () => {
    const created = await createApiKey({ ctx, input: { channel: 'WEB' } });
    const wrongSecret = `${created.key.slice(0, 16)}${'A'.repeat(43)}`;
    expect(await authenticateApiKey({ ctx, key: wrongSecret })).toBeNull();
    expect(await authenticateApiKey({ ctx, key: `bk_000000000000_${'A'.repeat(43)}` })).toBeNull();
    expect(await authenticateApiKey({ ctx, key: "' or 1=1 --" })).toBeNull();
  });

  it('revokes a key from then on, idempotently, and lists keys without key or hash', async () => {
    const created = await createApiKey({ ctx, input: { channel: 'STAFF', label: 'desk' } });
    const first = await revokeApiKey({ ctx, input: { id: created.id } });
    expect(first.alreadyRevoked).toBe(false);
    expect(await authenticateApiKey({ ctx, key: created.key })).toBeNull();
    const again = await revokeApiKey({ ctx, input: { id: created.id } });
    expect(again).toEqual({ id: created.id, revokedAt: first.revokedAt, alreadyRevoked: true });
    await expect(revokeApiKey({ ctx, input: { id: 'ffffffffffff' } })).rejects.toMatchObject({
      code: 'API_KEY_NOT_FOUND',
    });
    const listed = await listApiKeys({ ctx });
    const mine = listed.find((k) => k.id === created.id);
    expect(mine).toMatchObject({ channel: 'STAFF', label: 'desk', locationId: null });
    expect(mine?.revokedAt).toEqual(first.revokedAt);
    expect(Object.keys(mine ?? {}).sort()).toEqual([
      'channel',
      'createdAt',
      'id',
      'label',
      'locationId',
      'revokedAt',
    ]);
  });
});
