import { Writable } from 'node:stream';
import type { Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import type { HesVerifier } from '@boarding/hes/verifier';
import { createLogger, type Logger } from '@boarding/logger/logger';
import type { ApiKeyChannel } from '@boarding/registry/api-keys/api-key-format';
import { createApiKey } from '@boarding/registry/verbs/create-api-key';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import type { FastifyInstance } from 'fastify';
import type { RateLimits } from './rate-limit';
import { createRegistryApi } from './registry-api';

/**
 * A registry API on its own migrated database, with every log line it writes kept in `logs`
 * (so a test can check that no TC, HES or key reached them).
 */
export type ApiRig = {
  database: TestDatabase;
  keyring: Keyring;
  app: FastifyInstance;
  logs: string[];
  logger: Logger;
  /** The HES twin the rig was built with (the default one, or the caller's). */
  hes: HesVerifier;
  keyFor: (channel: ApiKeyChannel, locationId?: string) => Promise<{ id: string; key: string }>;
  /** The key the pages use for `/` on a device without its own (when asked for with `webPageKey`). */
  webPageKey?: { id: string; key: string };
  close: () => Promise<void>;
};

export const TEST_BODY_LIMIT = 1024;
// Generous, so tests that are not about rate limits never meet them.
export const TEST_RATE_LIMITS: RateLimits = { perKeyPerMinute: 10_000, perTcPerHour: 10_000 };

export async function createApiRig(
  label: string,
  options: {
    db?: Db;
    hes?: HesVerifier;
    rateLimits?: RateLimits;
    now?: () => Date;
    /** Create a key of this channel and give it to the pages as REGISTRY_API_WEB_PAGE_KEY (WEB, or another to test the refusal). */
    webPageKey?: ApiKeyChannel;
  } = {},
): Promise<ApiRig> {
  const hes = options.hes ?? new InMemoryHesVerifier();
  const database = await createTestDatabase(label);
  const keyring = createKeyringForTests();
  const logs: string[] = [];
  const logger = createLogger('registry-api-test', {
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const keyFor = (channel: ApiKeyChannel, locationId?: string) =>
    createApiKey({
      ctx: { db: database.db, actor: { id: 'test', channel: 'ADMIN' } },
      input: { channel, ...(locationId ? { locationId } : {}) },
    });
  const webPageKey = options.webPageKey === undefined ? undefined : await keyFor(options.webPageKey);
  const app = createRegistryApi({
    db: options.db ?? database.db,
    keyring,
    logger,
    bodyLimitBytes: TEST_BODY_LIMIT,
    hes,
    rateLimits: options.rateLimits ?? TEST_RATE_LIMITS,
    ...(options.now ? { now: options.now } : {}),
    ...(webPageKey ? { pages: { webPageKey: webPageKey.key } } : {}),
  });
  return {
    database,
    keyring,
    app,
    logs,
    logger,
    hes,
    keyFor,
    ...(webPageKey ? { webPageKey } : {}),
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
