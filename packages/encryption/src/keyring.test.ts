import { Keyring, type KeyringError } from './keyring';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (err) {
    if (err instanceof Error) return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('Keyring', () => {
  it('refuses an active kid without a key and keys of the wrong length', () => {
    const err = thrown(
      () =>
        new Keyring({
          activeKeyId: 'k2',
          dataKeys: { k1: Buffer.alloc(16, 0x11) },
          indexKey: Buffer.alloc(32, 0x22),
        }),
    );
    expect((err as KeyringError).code).toBe('PII_KEYRING_INVALID');
    expect(err.message).toContain('key k1 is 16 bytes, not 32');
    expect(err.message).toContain('active key id k2 is not among the data keys');
  });
});

describe('Keyring worker transfer', () => {
  it('rebuilds an equivalent keyring in a worker thread from cloned KeyObjects', async () => {
    const { Worker } = await import('node:worker_threads');
    const { randomBytes: rnd } = await import('node:crypto');
    const keyring = new Keyring({ activeKeyId: 'k1', dataKeys: { k1: rnd(32) }, indexKey: rnd(32) });
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { createHmac } = require('node:crypto');
      const mac = createHmac('sha256', workerData.indexKey).update('x').digest('hex');
      parentPort.postMessage({ kid: workerData.activeKeyId, mac, len: workerData.dataKeys.k1.symmetricKeySize });
    `;
    const worker = new Worker(code, { eval: true, workerData: keyring.toWorkerData() });
    const got = await new Promise<{ kid: string; mac: string; len: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    const { createHmac } = await import('node:crypto');
    expect(got).toEqual({
      kid: 'k1',
      mac: createHmac('sha256', keyring.indexKey()).update('x').digest('hex'),
      len: 32,
    });
    const rebuilt = Keyring.fromWorkerData(keyring.toWorkerData());
    expect(rebuilt.keyIds()).toEqual(['k1']);
  });
});
