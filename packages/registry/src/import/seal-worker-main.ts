import { parentPort, workerData } from 'node:worker_threads';
import { Keyring, type KeyringWorkerData } from '@boarding/encryption/keyring';
import { type RawBatch, sealBatch } from './seal-batch';

const keyring = Keyring.fromWorkerData(workerData as KeyringWorkerData);

parentPort?.on('message', (message: { id: number; batch: RawBatch }) => {
  try {
    parentPort?.postMessage({ id: message.id, result: sealBatch(keyring, message.batch) });
  } catch (err) {
    // Never the record itself in the error: it holds TC and HES in clear.
    parentPort?.postMessage({ id: message.id, error: (err as Error).name });
  }
});
