import { parentPort, workerData } from 'node:worker_threads';
import { Keyring, type KeyringWorkerData } from '@boarding/encryption/keyring';
import { openBlobs, type PackedBlobs } from './decrypt-batch';

const keyring = Keyring.fromWorkerData(workerData as KeyringWorkerData);

parentPort?.on('message', (message: { id: number; blobs: PackedBlobs }) => {
  try {
    parentPort?.postMessage({ id: message.id, opened: openBlobs(keyring, message.blobs) });
  } catch (err) {
    // The error's name only: a message could quote what it failed on.
    parentPort?.postMessage({ id: message.id, error: (err as Error).name });
  }
});
