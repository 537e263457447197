import { z } from 'zod';
import { reasonedString } from './issues';

export type CardNoResult = { ok: true; value: string } | { ok: false; reason: 'CARD_NO_INVALID' };

// The printed (logical) card number, never the chip UID (SPEC §2): the registry and the
// validators agree only on the printed number.
export const CARD_NO = /^[0-9A-F]{8,20}$/;

export function normaliseCardNo(input: string): CardNoResult {
  const value = input.trim().toUpperCase();
  return CARD_NO.test(value) ? { ok: true, value } : { ok: false, reason: 'CARD_NO_INVALID' };
}

/** A string field holding a card number; outputs the normalised form. */
export const CardNo = reasonedString((input) => {
  const result = normaliseCardNo(input);
  return result.ok
    ? result
    : { ok: false, reason: result.reason, message: 'must be 8-20 characters of 0-9 A-F' };
});
export type CardNo = z.infer<typeof CardNo>;

export const CARD_KINDS = ['PERSONAL', 'ANONYMOUS'] as const;

/** PERSONAL is the photo card, ANONYMOUS the "hamiline" card. */
export const CardKind = z.enum(CARD_KINDS);
export type CardKind = z.infer<typeof CardKind>;

export type CardKindResult = { ok: true; value: CardKind } | { ok: false; reason: 'CARD_KIND_INVALID' };

/** Lenient on case and surrounding spaces, as hand-edited import files are. */
export function normaliseCardKind(input: string): CardKindResult {
  const parsed = CardKind.safeParse(input.trim().toUpperCase());
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: 'CARD_KIND_INVALID' };
}
