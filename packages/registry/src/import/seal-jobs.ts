import type { KeyringJobs } from '@boarding/encryption/keyring-worker-pool';
import { sealBatch } from './seal-batch';

/**
 * What the import's keyring workers run. Each worker loads this module by its path, so the
 * export keeps the name `keyringJobs`.
 */
export const keyringJobs = { sealBatch } satisfies KeyringJobs;

/** This module's path: the `jobsModule` of the import's pool. */
export const SEAL_JOBS_MODULE = __filename;
