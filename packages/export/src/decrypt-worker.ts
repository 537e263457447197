import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Keyring } from '@boarding/encryption/keyring';
import type { OpenedColumns, PackedBlobs } from './decrypt-batch';

type Reply = { id: number; opened?: OpenedColumns; error?: string };

/**
 * Decrypts TC and HES of cursor batches on a worker thread, so the day file's main thread only
 * parses, formats and writes: on two cores, PostgreSQL has finished its sort by the time rows
 * stream, and the second core would otherwise sit idle (measured: decryption is a third of a
 * build). Batches are answered in the order sent.
 */
export class DecryptWorker {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (o: OpenedColumns) => void; reject: (e: Error) => void }>();
  #id = 0;

  constructor(keyring: Keyring) {
    this.#worker = new Worker(join(__dirname, 'decrypt-worker-entry.cjs'), {
      workerData: keyring.toWorkerData(),
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
    this.#worker.on('message', (m: Reply) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (m.opened) p?.resolve(m.opened);
      else p?.reject(new Error(`decryption failed (${m.error ?? 'unknown'})`));
    });
    this.#worker.on('error', (err) => {
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    });
  }

  open(blobs: PackedBlobs): Promise<OpenedColumns> {
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // Copied, not transferred: a small Buffer.concat result lives in Node's shared buffer pool,
      // and transferring that ArrayBuffer would detach every other buffer in it.
      this.#worker.postMessage({ id, blobs });
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
