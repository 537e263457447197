import type { Keyring } from '@boarding/encryption/keyring';
import { loadKeyring, resolveKeyFilePath } from '@boarding/encryption/load-keyring';
import { verifyKeyring } from '@boarding/registry/key-check';
import type { Pool } from 'pg';
import { CHECK_LIMIT_MS, type Check, messageOf, timedCheck } from './check';

const KEY_FIX =
  'set PII_KEY_FILE (locally: `boarding stack up` makes .local/keys/pii.json), or PII_KEYS, PII_ACTIVE_KEY_ID and PII_INDEX_KEY';

/**
 * The PII keyring loads from PII_KEY_FILE or PII_KEYS… (the key file's mode and format included).
 * Key ids are said; key material never. Returns the keyring for the key check against the database.
 */
export function checkPiiKeyring(env: Record<string, string | undefined>): {
  check: Check;
  keyring: Keyring | undefined;
} {
  try {
    const keyring = loadKeyring(env);
    const from =
      env.PII_KEY_FILE !== undefined ? `key file ${resolveKeyFilePath(env.PII_KEY_FILE)}` : 'PII_KEYS';
    return {
      keyring,
      check: {
        name: 'pii keyring',
        ok: true,
        detail: `${from}: active key ${keyring.activeKeyId}, data keys ${keyring.keyIds().join(', ')}, index key loaded`,
      },
    };
  } catch (err) {
    // ConfigError and KeyringError name variables and files, never key material.
    return {
      keyring: undefined,
      check: {
        name: 'pii keyring',
        ok: false,
        detail: messageOf(err).replace(/\s*\n\s*/g, ' '),
        fix: KEY_FIX,
      },
    };
  }
}

/**
 * The keys loaded against the database's key check (verifyKeyring, what every service runs at
 * start): a wrong index or data key fails here instead of as lookups that find nobody. On a
 * database that has no check yet, the check is recorded, as the first service start would.
 */
export function checkPiiKeyCheck(pool: Pool, keyring: Keyring, limitMs = CHECK_LIMIT_MS): Promise<Check> {
  return timedCheck(
    'pii key check',
    limitMs,
    async () => {
      const result = await verifyKeyring(pool, keyring);
      const written = Object.entries(result.dataKeys)
        .filter(([, s]) => s === 'WRITTEN')
        .map(([kid]) => kid);
      const recorded =
        result.indexKey === 'WRITTEN' || written.length > 0
          ? `; first use on this database, recorded (${[...(result.indexKey === 'WRITTEN' ? ['index key'] : []), ...written].join(', ')})`
          : '';
      const retired =
        result.keyIdsNotLoaded.length > 0
          ? `; checked here but not loaded: ${result.keyIdsNotLoaded.join(', ')} (values sealed under them cannot be decrypted)`
          : '';
      return {
        ok: true,
        detail: `index key and data keys ${Object.keys(result.dataKeys).join(', ')} match this database${recorded}${retired}`,
      };
    },
    (err) => ({
      ok: false,
      detail: messageOf(err),
      fix:
        (err as { code?: unknown }).code === 'PII_INDEX_KEY_MISMATCH' ||
        (err as { code?: unknown }).code === 'PII_DATA_KEY_MISMATCH'
          ? 'load the keys this database was written with (PII_KEY_FILE or PII_KEYS / PII_INDEX_KEY); never write with others'
          : 'see the detail; the key check needs PostgreSQL and the migrations',
    }),
  );
}
