import type { KeyringJobs } from '@boarding/encryption/keyring-worker-pool';
import { openBlobs } from './decrypt-batch';

/**
 * What the day file's keyring workers run. The worker loads this module by its path, so the
 * export keeps the name `keyringJobs`.
 */
export const keyringJobs = { openBlobs } satisfies KeyringJobs;

/** This module's path: the `jobsModule` of the day file's pool. */
export const DECRYPT_JOBS_MODULE = __filename;
