import { createHash, timingSafeEqual } from 'node:crypto';

/** `SHA256:<base64 without padding>` of an SSH public key blob: what `ssh-keygen -lf` prints. */
export function fingerprintSha256(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** Compare a presented host key against the pinned fingerprint, in constant time. */
export function hostKeyMatches(keyBlob: Buffer, pinned: string): boolean {
  const seen = Buffer.from(fingerprintSha256(keyBlob));
  const want = Buffer.from(pinned.trim());
  return seen.length === want.length && timingSafeEqual(seen, want);
}
