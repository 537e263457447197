import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** SPEC §9: the channels an API key can be bound to. */
export const API_KEY_CHANNELS = ['WEB', 'KIOSK', 'ACTIVATION_POINT', 'STAFF'] as const;
export const ApiKeyChannel = z.enum(API_KEY_CHANNELS);
export type ApiKeyChannel = z.infer<typeof ApiKeyChannel>;

/** Kiosks and activation points stand somewhere; a web or staff key does not. */
export const channelNeedsLocation = (channel: ApiKeyChannel): boolean =>
  channel === 'KIOSK' || channel === 'ACTIVATION_POINT';

// `bk_<id>_<secret>`: the id (public, 12 hex) finds the row; the secret is 32 random bytes
// (base64url), so a plain SHA-256 of the whole key is safe at rest (nothing to brute-force).
const KEY_SHAPE = /^bk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function newApiKey(): { id: string; key: string } {
  const id = randomBytes(6).toString('hex');
  return { id, key: `bk_${id}_${randomBytes(32).toString('base64url')}` };
}

export const hashApiKey = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/** The id a presented key claims, or null when it is not shaped like one of ours. */
export function apiKeyId(key: string): string | null {
  return KEY_SHAPE.exec(key)?.[1] ?? null;
}

/** Constant-time: how many leading bytes match must not show in the answer's timing. */
export function apiKeyMatches(key: string, storedHash: Buffer): boolean {
  const presented = hashApiKey(key);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
