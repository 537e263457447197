import { fingerprintSha256, hostKeyMatches } from './host-key';

describe('host key fingerprint', () => {
  // The blob of an ed25519 public key and the fingerprint `ssh-keygen -lf` printed for it.
  const blob = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIJjVxhCFsFXV5yu0BbKhL9a9vXUnIBQ9+7Uef7bFRzvg', 'base64');

  it('prints SHA256 base64 without padding, as ssh-keygen does', () => {
    expect(fingerprintSha256(blob)).toBe('SHA256:qaa1YuZbg6/E8DZqddmcsrixxP/dlMLpD++SOt5mqvs');
  });

  it('accepts only the pinned key', () => {
    const pinned = fingerprintSha256(blob);
    expect(hostKeyMatches(blob, pinned)).toBe(true);
    const other = Buffer.from(blob);
    other[other.length - 1] = (other[other.length - 1] ?? 0) ^ 1;
    expect(hostKeyMatches(other, pinned)).toBe(false);
    expect(hostKeyMatches(blob, 'SHA256:short')).toBe(false);
  });
});
