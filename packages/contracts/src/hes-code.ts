import { z } from 'zod';
import { reasonedString } from './issues';

export type HesCodeResult = { ok: true; value: string } | { ok: false; reason: 'HES_INVALID' };

const HES_CODE = /^[A-Z0-9]{10}$/;

/** SPEC §3: trim, upper-case, drop dashes and spaces; the stored form has no dashes. */
export function normaliseHesCode(input: string): HesCodeResult {
  const value = input.trim().toUpperCase().replace(/[- ]/g, '');
  return HES_CODE.test(value) ? { ok: true, value } : { ok: false, reason: 'HES_INVALID' };
}

/** The display form `XXXX-XXXX-XX`; throws RangeError (without the input) if it is not a HES code. */
export function formatHesCode(input: string): string {
  const result = normaliseHesCode(input);
  if (!result.ok) throw new RangeError('formatHesCode: not a HES code');
  const v = result.value;
  return `${v.slice(0, 4)}-${v.slice(4, 8)}-${v.slice(8)}`;
}

/** A string field holding a HES code; outputs the normalised form. */
export const HesCode = reasonedString((input) => {
  const result = normaliseHesCode(input);
  return result.ok
    ? result
    : {
        ok: false,
        reason: result.reason,
        message: 'must be 10 characters of A-Z 0-9 (dashes and spaces ignored)',
      };
});
export type HesCode = z.infer<typeof HesCode>;

/** The HES service's answer for a code (SPEC §9): a risky code is still matched, and recorded. */
export const HesStatus = z.enum(['RISKY', 'RISKLESS']);
export type HesStatus = z.infer<typeof HesStatus>;
