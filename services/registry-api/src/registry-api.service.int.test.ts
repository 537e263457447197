import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { createApiKey } from '@boarding/registry/verbs/create-api-key';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { RegistryApiEnv } from './env';
import { createRegistryApiService } from './registry-api';

describe('registry API service start: the web page key', () => {
  let database: TestDatabase;
  const logger = createLogger('registry-api-service-test', { level: 'silent' });

  beforeAll(async () => {
    database = await createTestDatabase('regapi_service_start');
  });
  afterAll(async () => {
    await database.drop();
  });

  const startWith = async (pageKey: string) => {
    const shutdown = new ShutdownRegistry(logger);
    const env = RegistryApiEnv.parse({
      DATABASE_URL: database.url,
      HES_SERVICE_URL: 'http://127.0.0.1:9',
      REGISTRY_API_PORT: '0',
      REGISTRY_API_WEB_PAGE_KEY: pageKey,
    });
    const service = createRegistryApiService(env, logger, shutdown, {
      keyring: createKeyringForTests(),
      hes: new InMemoryHesVerifier(),
    });
    try {
      await service.start();
      return (await service.app.inject({ url: '/' })).statusCode;
    } finally {
      await shutdown.stop();
    }
  };
  const keyOf = async (channel: 'WEB' | 'STAFF') =>
    (
      await createApiKey({
        ctx: { db: database.db, actor: { id: 'test', channel: 'ADMIN' } },
        input: { channel },
      })
    ).key;

  it('starts with a WEB key and serves the page', async () => {
    expect(await startWith(await keyOf('WEB'))).toBe(200);
  });

  it.each([
    ['a STAFF key', () => keyOf('STAFF')],
    ['an unknown key', async () => 'bk_000000000000_nothing'],
  ])('refuses to start with %s, naming the setting and never the key', async (_what, key) => {
    const value = await key();
    const start = startWith(value);
    await expect(start).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startWith(value)).rejects.toThrow('REGISTRY_API_WEB_PAGE_KEY');
    await start.catch((err: Error) => expect(err.message).not.toContain(value));
  });
});
