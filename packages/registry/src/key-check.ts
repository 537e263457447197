import { createDb } from '@boarding/db/client';
import { keyChecks, persons } from '@boarding/db/schema';
import { type DbTransaction, withDbTransaction } from '@boarding/db/transaction';
import { DecryptionError, keyIdOf } from '@boarding/encryption/field-cipher';
import {
  dataKeyCanaryOpens,
  indexKeyCheck,
  indexKeyCheckMatches,
  KeyMismatchError,
  sealDataKeyCanary,
} from '@boarding/encryption/key-check';
import type { Keyring } from '@boarding/encryption/keyring';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { desc } from 'drizzle-orm';
import type { Pool } from 'pg';
import { openTc, tcIndexOf } from './pii';

/** WRITTEN: this call stored the check (first use of the key here); VERIFIED: it was there and matched. */
export type KeyCheckState = 'WRITTEN' | 'VERIFIED';

export type KeyCheckResult = {
  indexKey: KeyCheckState;
  /** Every data key id of the keyring. */
  dataKeys: Record<string, KeyCheckState>;
  /**
   * Key ids checked in this database that the keyring does not hold: retired after rotation, or
   * missing from the key file. Not an error here; values still sealed under one fail to decrypt
   * with PII_UNKNOWN_KEY.
   */
  keyIdsNotLoaded: string[];
};

type CheckRow = { kind: 'INDEX' | 'DATA'; keyId: string; checkValue: string };

/**
 * Make sure the keys loaded are the ones this database was written with, before anything else is
 * written: every command and service that loads a keyring calls this at start.
 *
 * On first use it stores an HMAC of a fixed label under the index key and a sealed canary per
 * data key id; afterwards it verifies them. A data key id new to the database (rotation) gets its
 * canary. Throws `KeyMismatchError` (`PII_INDEX_KEY_MISMATCH`, or `PII_DATA_KEY_MISMATCH` naming
 * the kids), not retryable, and then writes nothing.
 *
 * One transaction: rows are inserted with ON CONFLICT DO NOTHING in one fixed order (index first,
 * kids sorted), then read back and verified before commit. Processes starting together with the
 * same keys all succeed, whoever's row landed; one with other keys fails and rolls back its rows
 * (even a canary of a kid no one else has), so a wrong keyring never leaves a check behind.
 */
export async function verifyKeyring(pool: Pool, keyring: Keyring): Promise<KeyCheckResult> {
  return withDbTransaction(pool, async (tx) => {
    const stored = await readChecks(tx);
    assertChecks(keyring, stored);
    const missing: CheckRow[] = [];
    if (!stored.some((r) => r.kind === 'INDEX')) {
      // The first check of this database, which may already hold data (it predates the checks):
      // recording the wrong keys now would certify them for good.
      await assertKeysOpenStoredData(tx, keyring);
      missing.push({ kind: 'INDEX', keyId: '', checkValue: indexKeyCheck(keyring) });
    }
    for (const keyId of [...keyring.keyIds()].sort()) {
      if (!stored.some((r) => r.kind === 'DATA' && r.keyId === keyId)) {
        missing.push({ kind: 'DATA', keyId, checkValue: sealDataKeyCanary(keyring, keyId) });
      }
    }
    let written: { kind: string; keyId: string }[] = [];
    let checks = stored;
    if (missing.length > 0) {
      written = await tx
        .insert(keyChecks)
        .values(missing)
        .onConflictDoNothing()
        .returning({ kind: keyChecks.kind, keyId: keyChecks.keyId });
      // A process starting beside this one may have stored its rows first: those count.
      checks = await readChecks(tx);
      assertChecks(keyring, checks);
    }
    const state = (kind: string, keyId: string): KeyCheckState =>
      written.some((w) => w.kind === kind && w.keyId === keyId) ? 'WRITTEN' : 'VERIFIED';
    return {
      indexKey: state('INDEX', ''),
      dataKeys: Object.fromEntries([...keyring.keyIds()].sort().map((kid) => [kid, state('DATA', kid)])),
      keyIdsNotLoaded: checks
        .filter((r) => r.kind === 'DATA' && !keyring.hasKey(r.keyId))
        .map((r) => r.keyId)
        .sort(),
    };
  });
}

async function readChecks(tx: DbTransaction): Promise<CheckRow[]> {
  return tx
    .select({ kind: keyChecks.kind, keyId: keyChecks.keyId, checkValue: keyChecks.checkValue })
    .from(keyChecks);
}

/** Throws for the first wrong key: the index key, else every data key whose canary does not open. */
function assertChecks(keyring: Keyring, checks: CheckRow[]): void {
  const index = checks.find((r) => r.kind === 'INDEX');
  if (index !== undefined && !indexKeyCheckMatches(keyring, index.checkValue)) {
    throw new KeyMismatchError('PII_INDEX_KEY_MISMATCH', []);
  }
  const wrong = checks
    .filter((r) => r.kind === 'DATA' && keyring.hasKey(r.keyId))
    .filter((r) => !dataKeyCanaryOpens(keyring, r.keyId, r.checkValue))
    .map((r) => r.keyId)
    .sort();
  if (wrong.length > 0) throw new KeyMismatchError('PII_DATA_KEY_MISMATCH', wrong);
}

/**
 * The newest person's sealed TC must open under its kid (when the keyring holds it) and index to
 * the stored blind index. The clear value is compared here and dropped: never returned, logged or
 * shown, so this is no read of personal data in the sense of the audit.
 */
async function assertKeysOpenStoredData(tx: DbTransaction, keyring: Keyring): Promise<void> {
  const [newest] = await tx
    .select({ tcIndex: persons.tcIndex, tcEnc: persons.tcEnc })
    .from(persons)
    .orderBy(desc(persons.id))
    .limit(1);
  if (newest === undefined) return;
  let keyId: string | undefined;
  let tc: string;
  try {
    keyId = keyIdOf(newest.tcEnc);
    // A retired kid cannot be checked here; its values fail later with PII_UNKNOWN_KEY.
    if (!keyring.hasKey(keyId)) return;
    tc = openTc(keyring, newest.tcEnc);
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
    // A value not in the field format proves nothing about the keys.
    if (err.code === 'PII_BAD_FORMAT') return;
    if (err.code === 'PII_DECRYPT_FAILED' && keyId !== undefined) {
      throw new KeyMismatchError('PII_DATA_KEY_MISMATCH', [keyId]);
    }
    throw err;
  }
  if (!tcIndexOf(keyring, tc).equals(newest.tcIndex))
    throw new KeyMismatchError('PII_INDEX_KEY_MISMATCH', []);
}

/**
 * The keyring of PII_KEY_FILE / PII_KEYS…, checked against the database's key check on a
 * connection of its own, before a service exists: a wrong key stops the start with
 * PII_INDEX_KEY_MISMATCH / PII_DATA_KEY_MISMATCH (naming the kid) instead of failing the first
 * decrypt hours later. Every service that reads TC or HES starts with it.
 */
export async function loadVerifiedKeyring(
  databaseUrl: string,
): Promise<{ keyring: Keyring; check: KeyCheckResult }> {
  const keyring = loadKeyring();
  // A server that accepts the connection and then stalls must not hang the start.
  const { pool } = createDb({
    url: databaseUrl,
    pool: { max: 1, statement_timeout: 10_000, query_timeout: 15_000 },
  });
  try {
    return { keyring, check: await verifyKeyring(pool, keyring) };
  } finally {
    await pool.end();
  }
}
