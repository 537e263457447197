// KVKK (SPEC §3): TC numbers and HES codes never reach a log in clear. The masks take any
// string, including malformed input from a dead-lettered message, and reveal at most a short
// suffix of it. A short input reveals less, so that most of it always stays hidden.

/** Reveals up to `keep` trailing characters while at least `minHidden` stay hidden. */
function revealedTail(value: string, keep: number, minHidden: number): string {
  const count = Math.min(keep, Math.max(0, value.length - minHidden));
  return count === 0 ? '' : value.slice(-count);
}

/** `17291716060` → `*******6060`; always 11 characters, at most the last 4 of the input shown. */
export function maskTc(input: string): string {
  const tail = revealedTail(input.trim(), 4, 7);
  return '*'.repeat(11 - tail.length) + tail;
}

/** `ABCD1234X9` → `****-****-X9`; always 12 characters, at most the last 2 code characters shown. */
export function maskHes(input: string): string {
  const tail = revealedTail(input.trim().replace(/[- ]/g, ''), 2, 8);
  return `****-****-${'*'.repeat(2 - tail.length)}${tail}`;
}

// A card number says little on its own, but with the tap history it identifies a traveller,
// so it is masked like the rest; its length is not a secret.
const CARD_MASK_MAX_STARS = 16;

/** `0412345678901234` → `************1234`; at most the last 4 shown, at least 4 hidden. */
export function maskCardNo(input: string): string {
  const value = input.trim();
  const tail = revealedTail(value, 4, 4);
  const stars = Math.min(CARD_MASK_MAX_STARS, Math.max(4, value.length - tail.length));
  return '*'.repeat(stars) + tail;
}

/**
 * Raw dead-lettered bytes may hold anything a device or a person typed, TC and HES included:
 * mask every 11-digit run (TC-like) to its last 4 and every 10-character code (HES-like, with or
 * without dashes) to its last 2 before showing them.
 */
export function maskPersonalData(text: string): string {
  return text
    .replace(/(?<![0-9])[0-9]{11}(?![0-9])/g, (m) => `*******${m.slice(-4)}`)
    .replace(
      /(?<![A-Za-z0-9-])([A-Za-z0-9]{4})-?([A-Za-z0-9]{4})-?([A-Za-z0-9]{2})(?![A-Za-z0-9-])/g,
      (_m, _a, _b, c: string) => `****-****-${c}`,
    );
}
