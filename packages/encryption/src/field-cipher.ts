import { createCipheriv, createDecipheriv, type KeyObject, randomFillSync } from 'node:crypto';
import { contextBytes } from './context';
import { KEY_ID_PATTERN, type Keyring, KeyringError } from './keyring';

/**
 * Stored form of one encrypted field (a `bytea` value), self-describing so that rows written
 * under any past key stay readable:
 *
 *   [1 byte format version = 1][1 byte kid length n][n bytes kid, ASCII][12 bytes IV]
 *   [ciphertext, as long as the UTF-8 plaintext][16 bytes GCM tag]
 *
 * AES-256-GCM under the kid's key, with the context (`tc`, `hes`) as additional authenticated
 * data: a value copied into a column of another kind does not decrypt.
 */
export const FORMAT_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID_AT = 2;
const MAX_KID_BYTES = 16;

export type DecryptionErrorCode =
  /** Not a field ciphertext of a known format: too short, unknown version, malformed kid. */
  | 'PII_BAD_FORMAT'
  /** Encrypted under a kid this keyring does not hold: a key was dropped or the wrong file loaded. */
  | 'PII_UNKNOWN_KEY'
  /** Authentication failed: wrong context, a changed byte, or a different key under the same kid. */
  | 'PII_DECRYPT_FAILED';

/**
 * A stored value could not be decrypted. Never retryable: the same bytes fail the same way.
 * Messages may name the kid and the context; they never hold plaintext, ciphertext or key bytes.
 */
export class DecryptionError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: DecryptionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DecryptionError';
  }
}

// Header bytes (version, kid length, kid) per kid: built once, copied into every ciphertext.
// Kids come from a validated keyring, so the map stays as small as the keyring.
const headers = new Map<string, Buffer>();

function headerFor(keyId: string): Buffer {
  let header = headers.get(keyId);
  if (header === undefined) {
    const kid = Buffer.from(keyId, 'latin1');
    header = Buffer.concat([Buffer.from([FORMAT_VERSION, kid.length]), kid]);
    headers.set(keyId, header);
  }
  return header;
}

// One CSPRNG call per 4096 IVs instead of one per value: measurably faster on the bulk import,
// and each IV is still 12 fresh random bytes used exactly once.
const ivPool = Buffer.alloc(IV_BYTES * 4096);
let ivOffset = ivPool.length;

function takeIv(into: Buffer, at: number): void {
  if (ivOffset === ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  ivPool.copy(into, at, ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
}

/** Encrypt one field value under the keyring's active key, bound to `context`. */
export function encryptField(keyring: Keyring, plaintext: string, context: string): Buffer {
  const { keyId, key } = keyring.activeKey();
  return seal(keyId, key, plaintext, contextBytes(context));
}

/**
 * Encrypt under a named key of the keyring rather than the active one. For the key check's canary
 * (`key-check.ts`), which must prove every data key, not only the one new values are written with.
 */
export function encryptFieldUnder(
  keyring: Keyring,
  keyId: string,
  plaintext: string,
  context: string,
): Buffer {
  const aad = contextBytes(context);
  const key = keyring.dataKey(keyId);
  if (key === undefined) {
    throw new KeyringError(
      'PII_KEYRING_INVALID',
      `key ${keyId} is not in the keyring (it has ${keyring.keyIds().join(', ')})`,
    );
  }
  return seal(keyId, key, plaintext, aad);
}

function seal(keyId: string, key: KeyObject, plaintext: string, aad: Buffer): Buffer {
  const header = headerFor(keyId);
  const length = Buffer.byteLength(plaintext, 'utf8');
  const ivAt = header.length;
  const bodyAt = ivAt + IV_BYTES;
  const out = Buffer.allocUnsafe(bodyAt + length + TAG_BYTES);
  header.copy(out, 0);
  takeIv(out, ivAt);
  const cipher = createCipheriv('aes-256-gcm', key, out.subarray(ivAt, bodyAt), { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = cipher.update(plaintext, 'utf8');
  cipher.final();
  // GCM is a stream mode; a length mismatch would leave uninitialised bytes in `out`.
  if (body.length !== length) throw new Error('AES-GCM returned an unexpected ciphertext length');
  body.copy(out, bodyAt);
  cipher.getAuthTag().copy(out, bodyAt + length);
  return out;
}

type Parsed = { keyId: string; ivAt: number; tagAt: number; bytes: Buffer };

function parse(blob: Uint8Array): Parsed {
  if (!(blob instanceof Uint8Array)) {
    throw new DecryptionError('PII_BAD_FORMAT', 'encrypted field is not bytes (is the column bytea?)');
  }
  const bytes = Buffer.isBuffer(blob) ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < KID_AT) throw new DecryptionError('PII_BAD_FORMAT', 'encrypted field is too short');
  if (bytes[0] !== FORMAT_VERSION) {
    throw new DecryptionError('PII_BAD_FORMAT', `encrypted field has unknown format version ${bytes[0]}`);
  }
  const kidLength = bytes[1] ?? 0;
  const ivAt = KID_AT + kidLength;
  const tagAt = bytes.length - TAG_BYTES;
  if (kidLength < 1 || kidLength > MAX_KID_BYTES || tagAt < ivAt + IV_BYTES) {
    throw new DecryptionError('PII_BAD_FORMAT', 'encrypted field is truncated or has a bad key id length');
  }
  const keyId = bytes.toString('latin1', KID_AT, ivAt);
  // Only a well-formed kid is ever put into a message; anything else could be arbitrary bytes.
  if (!KEY_ID_PATTERN.test(keyId))
    throw new DecryptionError('PII_BAD_FORMAT', 'encrypted field has a malformed key id');
  return { keyId, ivAt, tagAt, bytes };
}

/** The kid a stored value was encrypted under, for rotation reports (rows per kid). */
export function keyIdOf(blob: Uint8Array): string {
  return parse(blob).keyId;
}

/** Decrypt one field value written by `encryptField` with the same `context`. */
export function decryptField(keyring: Keyring, blob: Uint8Array, context: string): string {
  return openField(keyring, blob, context).toString('utf8');
}

/**
 * `decryptField`'s plaintext as its UTF-8 bytes, for a writer that copies them on as they are (the
 * day file), without a string per value.
 */
export function openField(keyring: Keyring, blob: Uint8Array, context: string): Buffer {
  const aad = contextBytes(context);
  const { keyId, ivAt, tagAt, bytes } = parse(blob);
  const key = keyring.dataKey(keyId);
  if (key === undefined) {
    throw new DecryptionError(
      'PII_UNKNOWN_KEY',
      `encrypted field names key ${keyId}, which the keyring does not hold (it has ${keyring.keyIds().join(', ')})`,
    );
  }
  const bodyAt = ivAt + IV_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(ivAt, bodyAt), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(tagAt));
  const plain = decipher.update(bytes.subarray(bodyAt, tagAt));
  try {
    decipher.final();
  } catch {
    // Unauthenticated output must not outlive the failure.
    plain.fill(0);
    throw new DecryptionError(
      'PII_DECRYPT_FAILED',
      `encrypted field (key ${keyId}) failed authentication as '${context}': wrong context, altered bytes or wrong key`,
    );
  }
  return plain;
}
