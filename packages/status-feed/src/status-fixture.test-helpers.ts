import { randomInt } from 'node:crypto';
import type { Actor, RegistryContext } from '@boarding/registry/context';
import { syntheticCardNo, syntheticHes, syntheticTc } from '@boarding/simulator/identities';
import { Random } from '@boarding/simulator/random';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';

/** A migrated database, a throw-away keyring and fresh synthetic identities. */
export async function createStatusFixture(label: string) {
  const database: TestDatabase = await createTestDatabase(label);
  const keyring = createKeyringForTests();
  const base = randomInt(0, 8_000_000) * 100;
  const random = new Random(base);
  let next = 0;
  return {
    database,
    ctx: (actor: Partial<Actor> = {}): RegistryContext => ({
      db: database.db,
      keyring,
      actor: { id: 'test', channel: 'WEB', ...actor },
    }),
    identity: () => {
      const n = base + next++;
      return { tc: syntheticTc(n), hes: syntheticHes(random), cardNo: syntheticCardNo(n) };
    },
    close: () => database.drop(),
  };
}
export type StatusFixture = Awaited<ReturnType<typeof createStatusFixture>>;
