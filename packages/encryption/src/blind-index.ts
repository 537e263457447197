import { createHmac } from 'node:crypto';
import { assertContext } from './context';
import type { Keyring } from './keyring';

export const BLIND_INDEX_BYTES = 32;

/**
 * HMAC-SHA-256(indexKey, context + '\0' + value): a deterministic 32-byte stand-in for a value,
 * stored beside its ciphertext so rows can be found by equality (which card holds this TC?)
 * without the value in clear. Equal inputs give equal outputs, so pass the canonical form (an HES
 * code without dashes, upper-case). The context keeps TC and HES indexes apart; it cannot contain
 * `\0`, so the separator is unambiguous.
 */
export function blindIndex(keyring: Keyring, value: string, context: string): Buffer {
  assertContext(context);
  return createHmac('sha256', keyring.indexKey()).update(`${context}\0${value}`, 'utf8').digest();
}
