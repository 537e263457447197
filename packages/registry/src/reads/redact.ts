import { maskHes, maskTc } from '@boarding/contracts/mask';

/**
 * Free text typed by a person (a reveal's reason, a correction's reason) may hold a TC or HES
 * pasted by mistake. Masks every 11-digit run and the given clear values (the ones this read
 * decrypted, with or without the HES dashes). Not contracts' `maskPersonalData`: that masks every
 * 10-character word, which turns "explaining" into `****-****-ng` and the reason into noise.
 */
export function redactFreeText(text: string, clear: { tc: string[]; hes: string[] }): string {
  let out = text.replace(/(?<![0-9])[0-9]{11}(?![0-9])/g, (m) => maskTc(m));
  for (const tc of clear.tc) out = out.replaceAll(tc, maskTc(tc));
  for (const hes of clear.hes) {
    const pattern = new RegExp(`${hes.slice(0, 4)}[- ]?${hes.slice(4, 8)}[- ]?${hes.slice(8)}`, 'gi');
    out = out.replace(pattern, maskHes(hes));
  }
  return out;
}
