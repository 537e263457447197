/**
 * The crypto of the key check: values a database keeps so that a process can tell, at start and
 * without holding any key, whether the keys it loaded are the ones the data was written with. A
 * wrong index key otherwise shows only as lookups by TC that find nobody (and an import that
 * creates every person again); a wrong data key only as a failed decrypt in the nightly export.
 * Storing and comparing the rows is the registry's (`@boarding/registry/key-check`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DecryptionError, decryptField, encryptFieldUnder, keyIdOf } from './field-cipher';
import type { Keyring } from './keyring';

/**
 * What the index key signs for its check. It holds no `\0`, so it can never equal a blind index
 * input (`context + '\0' + value`): the stored check reveals nothing about any indexed value.
 */
export const INDEX_KEY_CHECK_LABEL = 'boarding key check v1';

/** The AAD of a canary: no TC or HES ciphertext (contexts `tc`, `hes`) can pass for one. */
export const DATA_KEY_CANARY_CONTEXT = 'key-check';
const CANARY_PLAINTEXT = 'boarding data key canary v1';

const HEX = /^(?:[0-9a-f]{2})+$/;

/** Hex HMAC-SHA-256 of the label under the index key: deterministic, one per index key. */
export function indexKeyCheck(keyring: Keyring): string {
  return createHmac('sha256', keyring.indexKey()).update(INDEX_KEY_CHECK_LABEL, 'utf8').digest('hex');
}

/** Whether a stored index key check was computed with this keyring's index key. */
export function indexKeyCheckMatches(keyring: Keyring, stored: string): boolean {
  if (!HEX.test(stored)) return false;
  const expected = Buffer.from(indexKeyCheck(keyring), 'hex');
  const given = Buffer.from(stored, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A fixed plaintext sealed by the field cipher under data key `keyId` (active or not), as hex.
 * A fresh IV each time: two processes sealing at once store different, equally valid canaries.
 */
export function sealDataKeyCanary(keyring: Keyring, keyId: string): string {
  return encryptFieldUnder(keyring, keyId, CANARY_PLAINTEXT, DATA_KEY_CANARY_CONTEXT).toString('hex');
}

/**
 * Whether a stored canary was sealed under `keyId` with the bytes this keyring holds for it. A
 * canary naming another kid, of another context, altered or malformed does not open.
 */
export function dataKeyCanaryOpens(keyring: Keyring, keyId: string, stored: string): boolean {
  if (!HEX.test(stored)) return false;
  const blob = Buffer.from(stored, 'hex');
  try {
    if (keyIdOf(blob) !== keyId) return false;
    return decryptField(keyring, blob, DATA_KEY_CANARY_CONTEXT) === CANARY_PLAINTEXT;
  } catch (err) {
    if (err instanceof DecryptionError) return false;
    throw err;
  }
}

export type KeyMismatchCode = 'PII_INDEX_KEY_MISMATCH' | 'PII_DATA_KEY_MISMATCH';

/**
 * The keys loaded are not the ones the database was written with. Never retryable: the same keys
 * fail the same way until an operator loads the right ones. Names the key (kids only), never
 * key material.
 */
export class KeyMismatchError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: KeyMismatchCode,
    /** The data key ids whose canary did not open; empty for the index key. */
    readonly keyIds: string[],
  ) {
    super(
      code === 'PII_INDEX_KEY_MISMATCH'
        ? 'the PII index key loaded is not the one this database was written with (its key check ' +
            'differs): lookups by TC would find nobody and imports would duplicate every person. ' +
            'The keys loaded are not the ones this database was written with; check PII_KEY_FILE / ' +
            'PII_INDEX_KEY.'
        : `the PII data key${keyIds.length === 1 ? '' : 's'} ${keyIds.join(', ')} loaded ` +
            `${keyIds.length === 1 ? 'is' : 'are'} not the one${keyIds.length === 1 ? '' : 's'} this ` +
            'database was written with (the key check canary does not open): values sealed under ' +
            `${keyIds.length === 1 ? 'it' : 'them'} would not decrypt. The keys loaded are not the ones ` +
            'this database was written with; check PII_KEY_FILE / PII_KEYS.',
    );
    this.name = 'KeyMismatchError';
  }
}
