import { createHash, timingSafeEqual } from 'node:crypto';

/** Sent with every 401 of /board, so a browser asks for the token (as the Basic password). */
export const BOARD_CHALLENGE = 'Basic realm="boarding"';

/**
 * Does an Authorization header carry the board token, as `Bearer <token>` or as the password of
 * HTTP Basic (any user name)? Compared in constant time: both sides are hashed first, so neither
 * the content nor the length of the token leaks through timing.
 */
export function boardAuthorized(header: string | undefined, token: string): boolean {
  const presented = presentedSecret(header);
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

function presentedSecret(header: string | undefined): string | undefined {
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme === 'bearer') return m[2];
  if (scheme !== 'basic') return undefined;
  const decoded = Buffer.from(m[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}
