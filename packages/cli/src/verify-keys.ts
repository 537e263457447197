import type { Keyring } from '@boarding/encryption/keyring';
import { type KeyCheckResult, verifyKeyring } from '@boarding/registry/key-check';

type Pool = Parameters<typeof verifyKeyring>[0];

/**
 * The PII keys against the database's key check, before a command writes or decrypts anything. A
 * wrong key rejects with `KeyMismatchError` (`PII_INDEX_KEY_MISMATCH` / `PII_DATA_KEY_MISMATCH`),
 * which `reportFailure` prints with its code and exits 3 (configuration). What was recorded for the first time,
 * and checked kids the keyring no longer holds, are said on stderr (stdout stays the result).
 */
export async function verifyKeys(pool: Pool, keyring: Keyring): Promise<KeyCheckResult> {
  const result = await verifyKeyring(pool, keyring);
  const recorded = [
    ...(result.indexKey === 'WRITTEN' ? ['the index key'] : []),
    ...Object.entries(result.dataKeys)
      .filter(([, state]) => state === 'WRITTEN')
      .map(([kid]) => `data key ${kid}`),
  ];
  if (recorded.length > 0) {
    process.stderr.write(`key check: first use of ${recorded.join(', ')} on this database, recorded\n`);
  }
  if (result.keyIdsNotLoaded.length > 0) {
    process.stderr.write(
      `key check: this database has checks of data keys not loaded (${result.keyIdsNotLoaded.join(', ')}): ` +
        'values still sealed under them cannot be decrypted\n',
    );
  }
  return result;
}
