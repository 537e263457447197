import { randomInt } from 'node:crypto';
import { createDb, type Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import { syntheticCardNo, syntheticHes, syntheticTc } from '@boarding/simulator/identities';
import { Random } from '@boarding/simulator/random';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import type { Pool } from 'pg';
import type { Actor, RegistryContext } from './context';
import { RegistryError } from './errors';

/**
 * What a registry integration test file needs: its own migrated database, a throw-away keyring
 * (random keys, so nothing here can decrypt real data) and synthetic identities from a random
 * block of numbers. Test-only by its name (`*.test-helpers.ts`): no product file imports it, and
 * jest's projects pick up only `*.test.ts`. It stays in this package rather than in
 * `@boarding/testing` because it needs the registry (context, `RegistryError`) while the
 * registry's tests need `@boarding/testing`: a package cycle turbo refuses.
 */
export type RegistryFixture = {
  database: TestDatabase;
  keyring: Keyring;
  ctx: (options?: { actor?: Partial<Actor>; now?: Date; db?: Db }) => RegistryContext;
  /** A fresh identity: valid synthetic TC, HES code (stored form) and card number. */
  identity: () => Identity;
  /** Another pool on the same database (a second service process, for races). */
  secondDb: () => { db: Db; pool: Pool };
  close: () => Promise<void>;
};

export type Identity = { tc: string; hes: string; cardNo: string };

export async function createRegistryFixture(label: string): Promise<RegistryFixture> {
  const database = await createTestDatabase(label);
  const keyring = createKeyringForTests();
  // A random base, so two runs (or files) rarely share a synthetic number; syntheticTc wants
  // n < 900,000,000.
  const base = randomInt(0, 8_000_000) * 100;
  const random = new Random(base);
  let next = 0;
  const extraPools: Pool[] = [];
  return {
    database,
    keyring,
    ctx: ({ actor, now, db } = {}) => ({
      db: db ?? database.db,
      keyring,
      actor: { id: 'test', channel: 'WEB', ...actor },
      ...(now ? { now: () => now } : {}),
    }),
    identity: () => {
      const n = base + next++;
      return { tc: syntheticTc(n), hes: syntheticHes(random), cardNo: syntheticCardNo(n) };
    },
    secondDb: () => {
      const created = createDb({ url: database.url });
      extraPools.push(created.pool);
      return created;
    },
    close: async () => {
      await Promise.all(extraPools.map((p) => p.end()));
      await database.drop();
    },
  };
}

export type MatchTableRow = {
  id: number;
  card_no: string;
  person_id: number;
  valid_from: Date;
  valid_to: Date | null;
  retracted_at: Date | null;
  retract_reason: string | null;
  corrected_by: number | null;
  channel: string;
  actor: string;
  hes_index: Buffer;
  hes_enc: Buffer;
  created_at: Date;
};

/** Every row of `matches` with its card number, by id: what the database holds, not what a verb says. */
export async function matchRows(
  pool: Pool,
  where = 'true',
  params: unknown[] = [],
): Promise<MatchTableRow[]> {
  const { rows } = await pool.query<MatchTableRow>(
    `select m.id::int as id, c.card_no, m.person_id::int as person_id, m.valid_from, m.valid_to,
            m.retracted_at, m.retract_reason, m.corrected_by::int as corrected_by, m.channel, m.actor,
            m.hes_index, m.hes_enc, m.created_at
       from matches m join cards c on c.id = m.card_id
      where ${where}
      order by m.id`,
    params,
  );
  return rows;
}

export async function auditRows(
  pool: Pool,
  where = 'true',
  params: unknown[] = [],
): Promise<
  {
    action: string;
    actor: string;
    channel: string;
    card_no: string | null;
    person_id: number | null;
    match_id: number | null;
    detail: Record<string, unknown>;
  }[]
> {
  const { rows } = await pool.query(
    `select action, actor, channel, card_no, person_id::int as person_id, match_id::int as match_id, detail
       from registry_audit where ${where} order by id`,
    params,
  );
  return rows;
}

export async function countRows(
  pool: Pool,
  table: 'persons' | 'cards' | 'matches' | 'registry_audit' | 'import_runs',
) {
  const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0]?.n ?? 0;
}

/** The forms a clear TC or HES code could take in text: as given, and HES with its display dashes. */
export function clearForms(identity: { tc: string; hes: string }): string[] {
  const h = identity.hes;
  return [identity.tc, h, `${h.slice(0, 4)}-${h.slice(4, 8)}-${h.slice(8)}`];
}

/** Which of the identities' clear values occur in `text` (masked so a failure does not print them). */
export function clearValuesIn(text: string, identities: { tc: string; hes: string }[]): string[] {
  const found: string[] = [];
  for (const id of identities) {
    for (const form of clearForms(id)) {
      if (text.includes(form)) found.push(`${form.length}-char value ending ${form.slice(-2)}`);
    }
  }
  return found;
}

/** The RegistryError a call rejects with; any other outcome fails the test with what happened. */
export async function registryErrorOf(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RegistryError) return err;
    throw err;
  }
  throw new Error('expected a RegistryError, but the call succeeded');
}

/** A valid TC with its last check digit changed: fails TC_CHECKSUM. */
export function withBadChecksum(tc: string): string {
  const last = Number(tc.slice(-1));
  return `${tc.slice(0, -1)}${(last + 1) % 10}`;
}

export const at = (iso: string) => new Date(iso);

/**
 * The fixture of one test file (or describe block): created in beforeAll, closed in afterAll.
 * The object returned stands for it from the first test on.
 */
export function useRegistryFixture(label: string): Omit<RegistryFixture, 'close'> {
  let fixture: RegistryFixture | undefined;
  beforeAll(async () => {
    fixture = await createRegistryFixture(label);
  });
  afterAll(async () => {
    await fixture?.close();
  });
  const current = (): RegistryFixture => {
    if (!fixture) throw new Error('registry fixture used outside a test (before beforeAll)');
    return fixture;
  };
  return {
    get database() {
      return current().database;
    },
    get keyring() {
      return current().keyring;
    },
    ctx: (options) => current().ctx(options),
    identity: () => current().identity(),
    secondDb: () => current().secondDb(),
  };
}
