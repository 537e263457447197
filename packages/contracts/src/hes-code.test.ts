import fc from 'fast-check';
import { formatHesCode, HesCode, normaliseHesCode } from './hes-code';

describe('normaliseHesCode', () => {
  it.each([
    ['ABCD1234X9', 'ABCD1234X9'],
    ['abcd1234x9', 'ABCD1234X9'],
    ['  ABCD-1234-X9 ', 'ABCD1234X9'],
    ['abcd 1234 x9', 'ABCD1234X9'],
    ['A-B-C-D-1-2-3-4-X-9', 'ABCD1234X9'],
  ])('normalises %j to %s', (input, value) => {
    expect(normaliseHesCode(input)).toEqual({ ok: true, value });
  });

  it.each(['', 'ABCD1234X', 'ABCD1234X90', 'ABCD_1234_X9', 'ABCD\t1234X9', 'ABCD.1234X9', 'ÇBCD1234X9'])(
    'rejects %j with HES_INVALID',
    (input) => {
      expect(normaliseHesCode(input)).toEqual({ ok: false, reason: 'HES_INVALID' });
    },
  );

  it('only ever outputs 10 characters of A-Z 0-9, and is idempotent', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (input) => {
        const result = normaliseHesCode(input);
        if (result.ok) {
          expect(result.value).toMatch(/^[A-Z0-9]{10}$/);
          expect(normaliseHesCode(result.value)).toEqual(result);
        }
      }),
    );
  });
});

describe('formatHesCode', () => {
  it('shows a stored code as XXXX-XXXX-XX', () => {
    expect(formatHesCode('ABCD1234X9')).toBe('ABCD-1234-X9');
  });

  it('formats any accepted spelling the same way', () => {
    expect(formatHesCode(' abcd-1234-x9 ')).toBe('ABCD-1234-X9');
  });

  it('throws without quoting the input when it is not a HES code', () => {
    expect(() => formatHesCode('ABCD1234')).toThrow(RangeError);
    expect(() => formatHesCode('ABCD1234')).not.toThrow(/ABCD/);
  });
});

describe('HesCode schema', () => {
  it('outputs the normalised code', () => {
    expect(HesCode.parse('abcd-1234-x9')).toBe('ABCD1234X9');
  });

  it('rejects a malformed code', () => {
    expect(HesCode.safeParse('ABCD-1234').success).toBe(false);
  });
});
