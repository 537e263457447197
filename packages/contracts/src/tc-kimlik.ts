import type { z } from 'zod';
import { reasonedString } from './issues';
import type { ReasonCode } from './reasons';

export type TcKimlikReason = Extract<
  ReasonCode,
  'TC_INVALID_LENGTH' | 'TC_NOT_DIGITS' | 'TC_LEADING_ZERO' | 'TC_CHECKSUM'
>;

export type TcKimlikResult = { ok: true; value: string } | { ok: false; reason: TcKimlikReason };

// ASCII only: \d would also accept other scripts' digits, which no registry holds.
const ASCII_DIGITS = /^[0-9]*$/;

/**
 * Checks a TC kimlik no by the rule of SPEC §3. Foreign residents' numbers (97/98/99…) follow
 * the same rule, so they need no special case.
 */
export function validateTcKimlikNo(input: string): TcKimlikResult {
  const value = input.trim();
  // Characters before length: "1729-171-6060" is better reported as a typing slip than as a
  // number of the wrong length.
  if (!ASCII_DIGITS.test(value)) return { ok: false, reason: 'TC_NOT_DIGITS' };
  if (value.length !== 11) return { ok: false, reason: 'TC_INVALID_LENGTH' };
  const d = Array.from(value, Number);
  const at = (i: number): number => d[i] ?? 0;
  if (at(0) === 0) return { ok: false, reason: 'TC_LEADING_ZERO' };
  const odd = at(0) + at(2) + at(4) + at(6) + at(8);
  const even = at(1) + at(3) + at(5) + at(7);
  // JS % keeps the dividend's sign; the rule wants the non-negative residue.
  const d10 = (((odd * 7 - even) % 10) + 10) % 10;
  const d11 = (odd + even + at(9)) % 10;
  if (at(9) !== d10 || at(10) !== d11) return { ok: false, reason: 'TC_CHECKSUM' };
  return { ok: true, value };
}

export function isValidTcKimlikNo(input: string): boolean {
  return validateTcKimlikNo(input).ok;
}

const TC_MESSAGES: Readonly<Record<TcKimlikReason, string>> = {
  TC_INVALID_LENGTH: 'must have 11 digits',
  TC_NOT_DIGITS: 'must contain digits only',
  TC_LEADING_ZERO: 'must not start with 0',
  TC_CHECKSUM: 'check digits do not match',
};

/** A string field holding a TC kimlik no; outputs the trimmed, validated number. */
export const TcKimlikNo = reasonedString((input) => {
  const result = validateTcKimlikNo(input);
  return result.ok ? result : { ok: false, reason: result.reason, message: TC_MESSAGES[result.reason] };
});
export type TcKimlikNo = z.infer<typeof TcKimlikNo>;
