import { randomBytes } from 'node:crypto';
import { Keyring } from '@boarding/encryption/keyring';

/** A throw-away keyring with random keys: tests never need the developer's key file. */
export function createKeyringForTests(): Keyring {
  return new Keyring({ activeKeyId: 'test', dataKeys: { test: randomBytes(32) }, indexKey: randomBytes(32) });
}
