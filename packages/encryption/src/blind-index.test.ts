import { blindIndex } from './blind-index';
import { InvalidContextError } from './context';
import { encryptField } from './field-cipher';
import { Keyring } from './keyring';

// Synthetic keys and values only.
const ring = new Keyring({
  activeKeyId: 'k1',
  dataKeys: { k1: Buffer.alloc(32, 0x11) },
  indexKey: Buffer.alloc(32, 0x22),
});

describe('blindIndex', () => {
  it('is HMAC-SHA-256(indexKey, context NUL value), as computed by openssl', () => {
    // printf 'tc\0%s' 17291716060 | openssl dgst -sha256 -mac HMAC -macopt hexkey:2222…22
    expect(blindIndex(ring, '17291716060', 'tc').toString('hex')).toBe(
      '33d0a104fdaf51027a95c45f86e41bbd43d7214399d5d34a153392afb3894e23',
    );
    expect(blindIndex(ring, 'AB12CD34EF', 'hes').toString('hex')).toBe(
      '339c5379137faf8233e87a968f3d06d48be4dd30aa8f484f690e098d79808384',
    );
  });

  it('is the same for every encryption of a value while the ciphertexts differ', () => {
    const a = encryptField(ring, '10000000146', 'tc');
    const b = encryptField(ring, '10000000146', 'tc');
    expect(a.equals(b)).toBe(false);
    expect(blindIndex(ring, '10000000146', 'tc').equals(blindIndex(ring, '10000000146', 'tc'))).toBe(true);
    expect(blindIndex(ring, '10000000146', 'tc')).toHaveLength(32);
  });

  it('separates contexts and values, and depends on the index key only', () => {
    const tc = blindIndex(ring, '10000000146', 'tc');
    expect(tc.equals(blindIndex(ring, '10000000146', 'hes'))).toBe(false);
    expect(tc.equals(blindIndex(ring, '17291716060', 'tc'))).toBe(false);

    const rotated = new Keyring({
      activeKeyId: 'k2',
      dataKeys: { k1: Buffer.alloc(32, 0x11), k2: Buffer.alloc(32, 0x33) },
      indexKey: Buffer.alloc(32, 0x22),
    });
    expect(blindIndex(rotated, '10000000146', 'tc').equals(tc)).toBe(true);

    const otherIndex = new Keyring({
      activeKeyId: 'k1',
      dataKeys: { k1: Buffer.alloc(32, 0x11) },
      indexKey: Buffer.alloc(32, 0x44),
    });
    expect(blindIndex(otherIndex, '10000000146', 'tc').equals(tc)).toBe(false);
  });

  it('rejects a context that could collide through the separator', () => {
    expect(() => blindIndex(ring, 'x', 'tc\0')).toThrow(InvalidContextError);
    expect(() => blindIndex(ring, 'x', '')).toThrow(InvalidContextError);
  });
});
