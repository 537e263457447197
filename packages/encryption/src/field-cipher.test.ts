import { inspect } from 'node:util';
import { InvalidContextError } from './context';
import { DecryptionError, decryptField, encryptField, keyIdOf, openField } from './field-cipher';
import { Keyring } from './keyring';

// Synthetic keys and values only. The TC numbers are checksum-valid test numbers from SPEC §3.
const K1 = Buffer.alloc(32, 0x11);
const K2 = Buffer.alloc(32, 0x33);
const INDEX = Buffer.alloc(32, 0x22);
const TC = '17291716060';
const HES = 'AB12CD34EF';

const keyring = (active: string, dataKeys: Record<string, Buffer>) =>
  new Keyring({ activeKeyId: active, dataKeys, indexKey: INDEX });

function decryptionError(run: () => unknown): DecryptionError {
  try {
    run();
  } catch (err) {
    if (err instanceof DecryptionError) return err;
    throw err;
  }
  throw new Error('expected a DecryptionError, nothing was thrown');
}

describe('encryptField / decryptField', () => {
  const ring = keyring('k1', { k1: K1 });

  it('round-trips TC, HES, empty and non-ASCII values', () => {
    for (const [value, context] of [
      [TC, 'tc'],
      [HES, 'hes'],
      ['', 'tc'],
      ['Çağrı Şimşek İzmir', 'name'],
    ] as const) {
      expect(decryptField(ring, encryptField(ring, value, context), context)).toBe(value);
      // The same plaintext as its UTF-8 bytes, for writers that copy bytes on.
      expect(openField(ring, encryptField(ring, value, context), context)).toEqual(
        Buffer.from(value, 'utf8'),
      );
    }
  });

  it('lays out version, kid, IV, ciphertext and tag as documented', () => {
    const blob = encryptField(ring, TC, 'tc');
    expect(blob[0]).toBe(1);
    expect(blob[1]).toBe(2);
    expect(blob.subarray(2, 4).toString('latin1')).toBe('k1');
    expect(blob.length).toBe(1 + 1 + 2 + 12 + TC.length + 16);
    expect(blob.includes(Buffer.from(TC))).toBe(false);
  });

  it('decrypts a value written by an independent AES-GCM implementation (stored format is stable)', () => {
    // Python `cryptography`: AESGCM(0x11 * 32).encrypt(iv=00..0b, b'17291716060', aad=b'tc'), with the header.
    const stored = Buffer.from(
      '01026b31000102030405060708090a0b22d4842a4a9404c2248ee3e68d29b7c8fe9376671590612be9a707',
      'hex',
    );
    expect(decryptField(ring, stored, 'tc')).toBe(TC);
    expect(keyIdOf(stored)).toBe('k1');
  });

  it('gives a different ciphertext each time for the same value (random IV)', () => {
    const seen = new Set(Array.from({ length: 100 }, () => encryptField(ring, TC, 'tc').toString('hex')));
    expect(seen.size).toBe(100);
  });

  it('refuses a TC ciphertext read as a HES code (context is authenticated)', () => {
    const blob = encryptField(ring, TC, 'tc');
    const err = decryptionError(() => decryptField(ring, blob, 'hes'));
    expect(err.code).toBe('PII_DECRYPT_FAILED');
    expect(err.retryable).toBe(false);
  });

  it('refuses a value with any single byte changed', () => {
    const blob = encryptField(ring, TC, 'tc');
    for (let i = 0; i < blob.length; i++) {
      const tampered = Buffer.from(blob);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      const err = decryptionError(() => decryptField(ring, tampered, 'tc'));
      expect(['PII_BAD_FORMAT', 'PII_UNKNOWN_KEY', 'PII_DECRYPT_FAILED']).toContain(err.code);
    }
  });

  it('refuses truncated, empty, unknown-version and non-byte values as bad format', () => {
    const blob = encryptField(ring, TC, 'tc');
    const badVersion = Buffer.from(blob);
    badVersion[0] = 2;
    for (const bad of [blob.subarray(0, 20), Buffer.alloc(0), badVersion, Buffer.from(TC)]) {
      expect(decryptionError(() => decryptField(ring, bad, 'tc')).code).toBe('PII_BAD_FORMAT');
    }
    expect(decryptionError(() => keyIdOf(TC as unknown as Buffer)).code).toBe('PII_BAD_FORMAT');
  });

  it('fails with PII_UNKNOWN_KEY when the kid is not in the keyring', () => {
    const blob = encryptField(keyring('k9', { k9: K2 }), TC, 'tc');
    const err = decryptionError(() => decryptField(ring, blob, 'tc'));
    expect(err.code).toBe('PII_UNKNOWN_KEY');
    expect(err.message).toContain('k9');
  });

  it('fails when a different key is stored under the same kid', () => {
    const blob = encryptField(keyring('k1', { k1: K2 }), TC, 'tc');
    expect(decryptionError(() => decryptField(ring, blob, 'tc')).code).toBe('PII_DECRYPT_FAILED');
  });

  it('accepts a plain Uint8Array as pg or a copy may hand it over', () => {
    const blob = encryptField(ring, HES, 'hes');
    expect(decryptField(ring, new Uint8Array(blob), 'hes')).toBe(HES);
  });
});

describe('rotation', () => {
  it('keeps values under k1 readable after k2 becomes active, and writes new values under k2', () => {
    const before = keyring('k1', { k1: K1 });
    const old = encryptField(before, TC, 'tc');
    expect(keyIdOf(old)).toBe('k1');

    const after = keyring('k2', { k1: K1, k2: K2 });
    expect(decryptField(after, old, 'tc')).toBe(TC);
    const fresh = encryptField(after, TC, 'tc');
    expect(keyIdOf(fresh)).toBe('k2');
    expect(decryptField(after, fresh, 'tc')).toBe(TC);
  });
});

describe('what never leaks', () => {
  const ring = keyring('k1', { k1: K1 });

  it('puts neither plaintext nor key material into any error message', () => {
    const blob = encryptField(ring, TC, 'tc');
    const tampered = Buffer.from(blob);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
    const messages = [
      decryptionError(() => decryptField(ring, blob, 'hes')).message,
      decryptionError(() => decryptField(ring, tampered, 'tc')).message,
      decryptionError(() => decryptField(keyring('k2', { k2: K2 }), blob, 'tc')).message,
    ];
    for (const message of messages) {
      expect(message).not.toContain(TC);
      expect(message).not.toContain(K1.toString('base64'));
      expect(message).not.toContain(K1.toString('hex'));
      expect(message).not.toContain(blob.toString('hex'));
    }
  });

  it('does not echo a rejected context, which with swapped arguments would be the TC number', () => {
    expect(() => encryptField(ring, 'tc', TC)).toThrow(InvalidContextError);
    try {
      encryptField(ring, 'tc', TC);
    } catch (err) {
      expect((err as Error).message).not.toContain(TC);
    }
    expect(() => decryptField(ring, encryptField(ring, TC, 'tc'), 'tc\0x')).toThrow(InvalidContextError);
  });

  it('shows only kids when a keyring is logged or serialised', () => {
    const shown = [
      inspect(ring),
      JSON.stringify(ring),
      String(ring),
      inspect({ nested: { ring } }, { depth: 5 }),
    ];
    for (const text of shown) {
      expect(text).not.toContain(K1.toString('base64'));
      expect(text).not.toContain(K1.toString('hex'));
      expect(text).not.toContain(INDEX.toString('hex'));
    }
    expect(JSON.parse(JSON.stringify(ring))).toEqual({ activeKeyId: 'k1', keyIds: ['k1'] });
  });
});
