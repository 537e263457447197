import { FIELD_CONTEXT } from './context';
import { encryptField, encryptFieldUnder, keyIdOf } from './field-cipher';
import {
  DATA_KEY_CANARY_CONTEXT,
  dataKeyCanaryOpens,
  INDEX_KEY_CHECK_LABEL,
  indexKeyCheck,
  indexKeyCheckMatches,
  KeyMismatchError,
  sealDataKeyCanary,
} from './key-check';
import { Keyring, KeyringError } from './keyring';

// Synthetic keys only.
const K1 = Buffer.alloc(32, 0x11);
const K1_OTHER = Buffer.alloc(32, 0x44);
const K2 = Buffer.alloc(32, 0x33);
const INDEX = Buffer.alloc(32, 0x22);
const INDEX_OTHER = Buffer.alloc(32, 0x55);

const ring = (active: string, dataKeys: Record<string, Buffer>, indexKey = INDEX) =>
  new Keyring({ activeKeyId: active, dataKeys, indexKey });

const keyMaterial = [K1, K1_OTHER, K2, INDEX, INDEX_OTHER].flatMap((k) => [
  k.toString('base64'),
  k.toString('hex'),
]);

describe('indexKeyCheck', () => {
  it('is the hex HMAC-SHA-256 of the fixed label under the index key (known answer from openssl)', () => {
    // printf 'boarding key check v1' | openssl dgst -sha256 -mac HMAC -macopt hexkey:2222…22 (32 bytes)
    expect(INDEX_KEY_CHECK_LABEL).toBe('boarding key check v1');
    expect(indexKeyCheck(ring('k1', { k1: K1 }))).toBe(
      '3ea45459529f49f29c4fa680283f499c96c42422c87aac87bfffbd32a2b52860',
    );
  });

  it('depends on the index key only: data keys added or rotated leave it unchanged', () => {
    const before = indexKeyCheck(ring('k1', { k1: K1 }));
    expect(indexKeyCheck(ring('k2', { k1: K1, k2: K2 }))).toBe(before);
    expect(indexKeyCheck(ring('k1', { k1: K1 }, INDEX_OTHER))).not.toBe(before);
  });

  it('matches the value stored with the same index key, and nothing else', () => {
    const stored = indexKeyCheck(ring('k1', { k1: K1 }));
    expect(indexKeyCheckMatches(ring('k2', { k2: K2 }), stored)).toBe(true);
    expect(indexKeyCheckMatches(ring('k1', { k1: K1 }, INDEX_OTHER), stored)).toBe(false);
    for (const malformed of ['', 'zz', stored.slice(2), `${stored}00`, stored.toUpperCase()]) {
      expect(indexKeyCheckMatches(ring('k1', { k1: K1 }), malformed)).toBe(false);
    }
  });
});

describe('sealDataKeyCanary / dataKeyCanaryOpens', () => {
  it('seals under the kid asked for, active or not, and opens with the same key', () => {
    const keyring = ring('k2', { k1: K1, k2: K2 });
    for (const kid of ['k1', 'k2']) {
      const canary = sealDataKeyCanary(keyring, kid);
      expect(canary).toMatch(/^([0-9a-f]{2})+$/);
      expect(keyIdOf(Buffer.from(canary, 'hex'))).toBe(kid);
      expect(dataKeyCanaryOpens(keyring, kid, canary)).toBe(true);
      // Another process holding the same bytes (a keyring rebuilt from the same file).
      expect(dataKeyCanaryOpens(ring('k2', { k1: Buffer.from(K1), k2: Buffer.from(K2) }), kid, canary)).toBe(
        true,
      );
    }
  });

  it('does not open under the same kid with other key bytes (a regenerated key file)', () => {
    const canary = sealDataKeyCanary(ring('k1', { k1: K1 }), 'k1');
    expect(dataKeyCanaryOpens(ring('k1', { k1: K1_OTHER }), 'k1', canary)).toBe(false);
  });

  it('refuses a canary sealed under another kid, even one the keyring holds', () => {
    const keyring = ring('k1', { k1: K1, k2: K2 });
    expect(dataKeyCanaryOpens(keyring, 'k1', sealDataKeyCanary(keyring, 'k2'))).toBe(false);
  });

  it('refuses a value of another context sealed under the same key, and malformed text', () => {
    const keyring = ring('k1', { k1: K1 });
    const tc = encryptField(keyring, '17291716060', FIELD_CONTEXT.tc).toString('hex');
    expect(dataKeyCanaryOpens(keyring, 'k1', tc)).toBe(false);
    const canary = sealDataKeyCanary(keyring, 'k1');
    for (const malformed of ['', 'zz', canary.slice(0, -2), canary.toUpperCase(), `${canary}0`]) {
      expect(dataKeyCanaryOpens(keyring, 'k1', malformed)).toBe(false);
    }
  });

  it('uses a fresh IV per seal, so two canaries of one key differ', () => {
    const keyring = ring('k1', { k1: K1 });
    expect(sealDataKeyCanary(keyring, 'k1')).not.toBe(sealDataKeyCanary(keyring, 'k1'));
  });

  it('refuses to seal under a kid the keyring does not hold', () => {
    expect(() => sealDataKeyCanary(ring('k1', { k1: K1 }), 'k9')).toThrow(KeyringError);
  });

  it('is the field cipher under its own context, so the stored format is the documented one', () => {
    const keyring = ring('k1', { k1: K1 });
    const viaCipher = encryptFieldUnder(keyring, 'k1', 'anything', DATA_KEY_CANARY_CONTEXT);
    expect(keyIdOf(viaCipher)).toBe('k1');
    expect(Buffer.from(sealDataKeyCanary(keyring, 'k1'), 'hex').subarray(0, 4)).toEqual(
      viaCipher.subarray(0, 4),
    );
  });
});

describe('KeyMismatchError', () => {
  it('says which key is wrong and what to do, is not retryable, and holds no key material', () => {
    const index = new KeyMismatchError('PII_INDEX_KEY_MISMATCH', []);
    expect(index).toMatchObject({ code: 'PII_INDEX_KEY_MISMATCH', retryable: false, keyIds: [] });
    expect(index.message).toContain('index key');
    expect(index.message).toContain('PII_INDEX_KEY');
    expect(index.message).toContain('PII_KEY_FILE');
    expect(index.message).toContain('not the ones this database was written with');

    const data = new KeyMismatchError('PII_DATA_KEY_MISMATCH', ['k2026-11', 'k2026-12']);
    expect(data).toMatchObject({ code: 'PII_DATA_KEY_MISMATCH', retryable: false });
    expect(data.message).toContain('k2026-11, k2026-12');
    expect(data.message).toContain('PII_KEYS');
    expect(data.message).toContain('PII_KEY_FILE');

    for (const err of [index, data]) {
      const text = `${err.message} ${JSON.stringify(err)}`;
      expect(keyMaterial.some((k) => text.includes(k))).toBe(false);
    }
  });
});
