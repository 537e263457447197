import fc from 'fast-check';
import { isValidTcKimlikNo, TcKimlikNo, validateTcKimlikNo } from './tc-kimlik';

// Synthetic numbers only: built by the checksum rule, never taken from a real person.
function checkDigits(first9: readonly number[]): [number, number] {
  const d = (i: number): number => first9[i] ?? 0;
  const odd = d(0) + d(2) + d(4) + d(6) + d(8);
  const even = d(1) + d(3) + d(5) + d(7);
  const d10 = (((odd * 7 - even) % 10) + 10) % 10;
  return [d10, (odd + even + d10) % 10];
}

const first9 = fc
  .tuple(
    fc.integer({ min: 1, max: 9 }),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 }),
  )
  .map(([head, rest]) => [head, ...rest]);

const validTc = first9.map((digits) => [...digits, ...checkDigits(digits)].join(''));

describe('validateTcKimlikNo', () => {
  it.each(['17291716060', '10000000146'])('accepts the SPEC example %s', (tc) => {
    expect(validateTcKimlikNo(tc)).toEqual({ ok: true, value: tc });
  });

  it.each([
    ['17291716050', 'TC_CHECKSUM'],
    ['07291716092', 'TC_LEADING_ZERO'],
    ['10000000147', 'TC_CHECKSUM'],
  ])('rejects the SPEC example %s with %s', (tc, reason) => {
    expect(validateTcKimlikNo(tc)).toEqual({ ok: false, reason });
  });

  it.each([
    ['', 'TC_INVALID_LENGTH'],
    ['1729171606', 'TC_INVALID_LENGTH'],
    ['172917160600', 'TC_INVALID_LENGTH'],
    ['1729171606a', 'TC_NOT_DIGITS'],
    ['1729-171-6060', 'TC_NOT_DIGITS'],
    ['17291 716060', 'TC_NOT_DIGITS'],
    ['١٧٢٩١٧١٦٠٦٠', 'TC_NOT_DIGITS'],
    ['-1729171606', 'TC_NOT_DIGITS'],
  ])('rejects %j with %s', (tc, reason) => {
    expect(validateTcKimlikNo(tc)).toEqual({ ok: false, reason });
  });

  it('trims surrounding whitespace and returns the trimmed number', () => {
    expect(validateTcKimlikNo(' \t17291716060\r\n')).toEqual({ ok: true, value: '17291716060' });
  });

  it('accepts a number built by the rule from any 9 leading digits (first not 0)', () => {
    fc.assert(
      fc.property(validTc, (tc) => {
        expect(validateTcKimlikNo(tc)).toEqual({ ok: true, value: tc });
      }),
    );
  });

  it('applies the same rule to foreign residents’ numbers starting 97, 98 or 99', () => {
    const foreign = fc
      .tuple(
        fc.constantFrom([9, 7], [9, 8], [9, 9]),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 7, maxLength: 7 }),
      )
      .map(([prefix, rest]) => {
        const digits = [...prefix, ...rest];
        return [...digits, ...checkDigits(digits)].join('');
      });
    fc.assert(
      fc.property(foreign, (tc) => {
        expect(isValidTcKimlikNo(tc)).toBe(true);
      }),
    );
  });

  // Changing one digit shifts the sum of d1..d10 (or d11 itself) by a non-zero amount mod 10,
  // so the d11 check always breaks: every single-digit change is invalid.
  it('rejects a valid number with any single digit changed', () => {
    fc.assert(
      fc.property(
        validTc,
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 9 }),
        (tc, index, delta) => {
          const digit = Number(tc[index]);
          const changed = `${tc.slice(0, index)}${(digit + delta) % 10}${tc.slice(index + 1)}`;
          const result = validateTcKimlikNo(changed);
          expect(result.ok).toBe(false);
          const expected = index === 0 && changed.startsWith('0') ? 'TC_LEADING_ZERO' : 'TC_CHECKSUM';
          expect(result).toEqual({ ok: false, reason: expected });
        },
      ),
    );
  });

  it('accepts exactly one of the 100 possible check-digit pairs', () => {
    fc.assert(
      fc.property(first9, (digits) => {
        const prefix = digits.join('');
        let valid = 0;
        for (let pair = 0; pair < 100; pair += 1) {
          if (isValidTcKimlikNo(prefix + String(pair).padStart(2, '0'))) valid += 1;
        }
        expect(valid).toBe(1);
      }),
      { numRuns: 50 },
    );
  });
});

describe('TcKimlikNo schema', () => {
  it('outputs the trimmed number', () => {
    expect(TcKimlikNo.parse(' 10000000146 ')).toBe('10000000146');
  });

  it('fails with the reason code in the issue params and no value in the message', () => {
    const result = TcKimlikNo.safeParse('17291716050');
    expect(result.success).toBe(false);
    const issue = result.error?.issues[0];
    expect(issue?.code).toBe('custom');
    expect(issue?.code === 'custom' ? issue.params?.reason : undefined).toBe('TC_CHECKSUM');
    expect(issue?.message).not.toContain('1729');
  });
});
