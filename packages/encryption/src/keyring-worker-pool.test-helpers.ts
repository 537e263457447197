import { FIELD_CONTEXT } from './context';
import { decryptField } from './field-cipher';
import type { Keyring } from './keyring';
import type { KeyringJobs } from './keyring-worker-pool';

/** The jobs `keyring-worker-pool.test.ts` runs: loaded by path in each worker, like a real catalog. */
export const keyringJobs = {
  /** The kid of the keyring the worker rebuilt, and the batch it was given. */
  echo: (keyring: Keyring, batch: number[]) => ({ activeKeyId: keyring.activeKeyId, batch }),
  openTcs: (keyring: Keyring, blobs: Uint8Array[]) =>
    blobs.map((blob) => decryptField(keyring, blob, FIELD_CONTEXT.tc)),
  /** Fails the way a bug would, with the value it was working on in its message. */
  failWithValue: (_keyring: Keyring, tc: string) => {
    throw new Error(`cannot handle ${tc}`);
  },
} satisfies KeyringJobs;
