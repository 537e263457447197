import { apiKeys } from '@boarding/db/schema';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { registerApiKey } from './apikey';
import { runCommand } from './run-command.test-helpers';

/** `boarding apikey …` in-process against the test database, stdout and stderr captured. */
const boarding = (db: TestDatabase, args: string[]) =>
  runCommand(registerApiKey, ['apikey', ...args], { DATABASE_URL: db.url });

describe('boarding apikey', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('apikey_cli');
  });
  afterAll(() => db.drop());

  it('creates a key, printing it once with how to use it; list shows neither key nor hash', async () => {
    const created = await boarding(db, [
      'create',
      '--channel',
      'ACTIVATION_POINT',
      '--location',
      'metro-konak',
      '--label',
      'Konak desk',
    ]);
    const key = /(bk_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(created.stdout)?.[1];
    expect(key).toBeDefined();
    expect(created.stdout).toContain('shown once');
    expect(created.stdout).toContain('ACTIVATION_POINT');

    const [row] = await db.db.select().from(apiKeys);
    const hashHex = row?.keyHash.toString('hex') ?? 'missing';
    for (const args of [['list'], ['list', '--json']]) {
      const { stdout } = await boarding(db, args);
      expect(stdout).toContain(row?.id);
      expect(stdout).toContain('metro-konak');
      expect(stdout).not.toContain(String(key));
      expect(stdout).not.toContain(String(key).slice(16));
      expect(stdout).not.toContain(hashHex);
      expect(stdout).not.toContain(row?.keyHash.toString('base64'));
    }
    const listed = JSON.parse((await boarding(db, ['list', '--json'])).stdout) as Record<string, unknown>[];
    expect(Object.keys(listed[0] ?? {}).sort()).toEqual([
      'channel',
      'createdAt',
      'id',
      'label',
      'locationId',
      'revokedAt',
    ]);
  });

  it('refuses an unknown location, a kiosk without one, a web key with one and an unknown channel', async () => {
    await expect(
      boarding(db, ['create', '--channel', 'KIOSK', '--location', 'metro-nowhere']),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_LOCATION',
    });
    await expect(boarding(db, ['create', '--channel', 'KIOSK'])).rejects.toThrow(
      'a KIOSK key needs --location',
    );
    await expect(boarding(db, ['create', '--channel', 'WEB', '--location', 'metro-konak'])).rejects.toThrow(
      'a WEB key takes no --location',
    );
    await expect(boarding(db, ['create', '--channel', 'ROOT'])).rejects.toThrow(
      /--channel: one of WEB, KIOSK/,
    );
  });

  it('revokes by id, says so when it was already revoked, and fails for an unknown id', async () => {
    const { stdout } = await boarding(db, ['create', '--channel', 'WEB', '--json']);
    const { id } = JSON.parse(stdout) as { id: string };
    expect((await boarding(db, ['revoke', id])).stdout).toContain(`revoked ${id}`);
    expect((await boarding(db, ['revoke', id])).stdout).toContain('already revoked');
    await expect(boarding(db, ['revoke', 'ffffffffffff'])).rejects.toMatchObject({
      code: 'API_KEY_NOT_FOUND',
    });
  });
});
