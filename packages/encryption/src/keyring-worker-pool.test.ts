import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FIELD_CONTEXT } from './context';
import { DecryptionError, encryptField } from './field-cipher';
import { Keyring } from './keyring';
import { KeyringJobError, KeyringWorkerPool } from './keyring-worker-pool';
import { keyringJobs } from './keyring-worker-pool.test-helpers';

const TC = '17291716060';
const jobsModule = join(__dirname, 'keyring-worker-pool.test-helpers.ts');

// Random keys: the workers must rebuild exactly this keyring, not load one of their own.
const ring = (kid: string) =>
  new Keyring({ activeKeyId: kid, dataKeys: { [kid]: randomBytes(32) }, indexKey: randomBytes(32) });

function start(keyring: Keyring, workers: number) {
  return KeyringWorkerPool.start({ keyring, workers, jobs: keyringJobs, jobsModule, label: 'opening' });
}

describe('KeyringWorkerPool', () => {
  it('runs batches on workers that hold the caller’s keyring, one result per batch', async () => {
    const keyring = ring('k1');
    const pool = start(keyring, 2);
    try {
      const blobs = [
        encryptField(keyring, TC, FIELD_CONTEXT.tc),
        encryptField(keyring, '10000000146', FIELD_CONTEXT.tc),
      ];
      const results = await Promise.all([
        pool.run('echo', [1, 2]),
        pool.run('openTcs', blobs),
        pool.run('echo', [3]),
      ]);
      expect(results).toEqual([
        { activeKeyId: 'k1', batch: [1, 2] },
        [TC, '10000000146'],
        { activeKeyId: 'k1', batch: [3] },
      ]);
    } finally {
      await pool.close();
    }
  });

  it('keeps the code and retryable of an error thrown on a worker (a wrong key file)', async () => {
    const blob = encryptField(ring('k1'), TC, FIELD_CONTEXT.tc);
    const pool = start(ring('k2'), 1);
    try {
      const err = await pool.run('openTcs', [blob]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyringJobError);
      expect(err).toMatchObject({
        message: 'opening failed (DecryptionError)',
        code: 'PII_UNKNOWN_KEY',
        retryable: false,
      });
    } finally {
      await pool.close();
    }
  });

  it('reports another key under the same kid as PII_DECRYPT_FAILED, not retryable (the job fails once)', async () => {
    // A regenerated key file keeps its kid: the header finds a key, GCM authentication fails.
    const blob = encryptField(ring('k1'), TC, FIELD_CONTEXT.tc);
    const pool = start(ring('k1'), 1);
    try {
      const err = await pool.run('openTcs', [blob]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyringJobError);
      expect(err).toMatchObject({
        message: 'opening failed (DecryptionError)',
        code: 'PII_DECRYPT_FAILED',
        retryable: false,
      });
    } finally {
      await pool.close();
    }
  });

  it('never carries an error’s message across the thread: it may quote a value in clear', async () => {
    const pool = start(ring('k1'), 1);
    try {
      const err = await pool.run('failWithValue', TC).catch((e: unknown) => e);
      expect(err).toMatchObject({
        message: 'opening failed (Error)',
        code: 'KEYRING_JOB_FAILED',
        retryable: false,
      });
      expect(JSON.stringify(err)).not.toContain(TC);
    } finally {
      await pool.close();
    }
  });

  it('runs inline without workers, rejecting with the job’s own error', async () => {
    const blob = encryptField(ring('k1'), TC, FIELD_CONTEXT.tc);
    const pool = start(ring('k2'), 0);
    await expect(pool.run('echo', [7])).resolves.toEqual({ activeKeyId: 'k2', batch: [7] });
    const err = await pool.run('openTcs', [blob]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptionError);
    expect(err).toMatchObject({ code: 'PII_UNKNOWN_KEY' });
    await pool.close();
  });

  it('refuses jobs once closed, and closing twice is harmless', async () => {
    const pool = start(ring('k1'), 1);
    await Promise.all([pool.close(), pool.close()]);
    await expect(pool.run('echo', [1])).rejects.toMatchObject({ code: 'KEYRING_POOL_CLOSED' });
  });

  it('fails the jobs of a worker that cannot load its catalog instead of hanging', async () => {
    const pool = KeyringWorkerPool.start({
      keyring: ring('k1'),
      workers: 1,
      jobs: keyringJobs,
      jobsModule: join(__dirname, 'context.ts'),
      label: 'opening',
    });
    try {
      await expect(pool.run('echo', [1])).rejects.toThrow(/does not export keyringJobs/);
      await expect(pool.run('echo', [2])).rejects.toThrow(/does not export keyringJobs/);
    } finally {
      await pool.close();
    }
  });
});
