import type { Random } from './random';

/**
 * The n-th synthetic TC kimlik no: 9 leading digits from n (first digit never 0), the two check
 * digits by the SPEC §3 rule. Distinct for distinct n < 900,000,000. Synthetic: no real person.
 */
export function syntheticTc(n: number): string {
  const head = String(100000000 + n)
    .split('')
    .map(Number);
  const [d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0, d6 = 0, d7 = 0, d8 = 0, d9 = 0] = head;
  const d10 = ((((d1 + d3 + d5 + d7 + d9) * 7 - (d2 + d4 + d6 + d8)) % 10) + 10) % 10;
  const d11 = (d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10) % 10;
  return `${head.join('')}${d10}${d11}`;
}

const HES_ALPHABET = 'ABCDEFGHJKLMNPRSTUVYZ0123456789';

/** A random 10-character HES code (stored form, no dashes). */
export function syntheticHes(random: Random): string {
  let out = '';
  for (let i = 0; i < 10; i++) out += HES_ALPHABET[random.int(0, HES_ALPHABET.length - 1)];
  return out;
}

/** The n-th card's printed number: 16 hex digits, İzmirim Kart style. */
export function syntheticCardNo(n: number): string {
  return `04${n.toString(16).toUpperCase().padStart(14, '0')}`;
}
