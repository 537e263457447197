import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Keyring } from '@boarding/encryption/keyring';
import { type RawBatch, type SealedBatch, sealBatch } from './seal-batch';

type Pending = { resolve: (r: SealedBatch) => void; reject: (e: Error) => void };

/**
 * Seals batches on worker threads (round robin), or inline when `size` is 0. Results are
 * promises; the caller awaits them in dispatch order, so COPY sees batches in file order.
 */
export class SealPool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, Pending>();
  #next = 0;
  #id = 0;

  constructor(
    private readonly keyring: Keyring,
    readonly size: number,
  ) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(join(__dirname, 'seal-worker.cjs'), { workerData: keyring.toWorkerData() });
      worker.on('message', (m: { id: number; result?: SealedBatch; error?: string }) => {
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.result) p?.resolve(m.result);
        else p?.reject(new Error(`sealing worker failed (${m.error ?? 'unknown'})`));
      });
      worker.on('error', (err) => this.#failAll(err));
      this.#workers.push(worker);
    }
  }

  seal(batch: RawBatch): Promise<SealedBatch> {
    const worker = this.#workers[this.#next++ % Math.max(1, this.#workers.length)];
    if (!worker) return Promise.resolve(sealBatch(this.keyring, batch));
    const id = this.#id++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, batch });
    });
  }

  #failAll(err: Error): void {
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
