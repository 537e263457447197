import { join } from 'node:path';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import type { Keyring, KeyringWorkerData } from './keyring';

/**
 * One batch of CPU work with the keyring (seal a batch of import rows, open a batch of day-file
 * values). Synchronous; payload and result cross the thread by structured clone, so a batch is one
 * message each way, never one per row.
 */
export type KeyringJob<Payload, Result> = (keyring: Keyring, payload: Payload) => Result;

/** Job name → job: the catalog a pool runs, exported as `keyringJobs` by the module it names. */
export type KeyringJobs = Record<string, KeyringJob<never, unknown>>;

export type KeyringWorkerPoolOptions<Jobs extends KeyringJobs> = {
  keyring: Keyring;
  /**
   * Worker threads, used round robin. 0 runs every job inline on the calling thread: for small
   * inputs, where starting a worker (~0.2 s) costs more than it saves.
   */
  workers: number;
  /** The catalog: its types, and the jobs run inline. */
  jobs: Jobs;
  /** Absolute path of the module that exports `jobs` as `keyringJobs`; each worker loads it once. */
  jobsModule: string;
  /** What the jobs do, naming a failure: `decryption failed (DecryptionError)`. */
  label: string;
  /** Heap limits of each worker. */
  resourceLimits?: ResourceLimits;
};

/** `workerData` of a keyring worker. */
export type KeyringWorkerStart = { keyring: KeyringWorkerData; jobsModule: string };
export type KeyringJobRequest = { id: number; job: string; payload: unknown };
/**
 * What crosses back from a failed job: labels only. Never the message, which could quote the
 * value the job failed on (a TC in clear).
 */
export type KeyringJobFailure = { name: string; code?: string; retryable?: boolean };
export type KeyringJobReply = { id: number; result: unknown } | { id: number; failure: KeyringJobFailure };

/**
 * A job failed on a worker thread (or the worker is gone). Keeps the original's `code` and
 * `retryable`, so callers map it like the error thrown inline (`PII_UNKNOWN_KEY`: wrong key file).
 */
export class KeyringJobError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(label: string, failure: KeyringJobFailure) {
    super(`${label} failed (${failure.name})`);
    this.name = 'KeyringJobError';
    this.code = failure.code ?? 'KEYRING_JOB_FAILED';
    this.retryable = failure.retryable ?? false;
  }
}

type Pending = { resolve: (result: unknown) => void; reject: (err: Error) => void };
type Thread = { worker: Worker; pending: Map<number, Pending>; gone?: Error };

// Not named keyring-worker-pool.cjs: a resolver trying .cjs before .ts (jest's) would load it for
// './keyring-worker-pool'.
const ENTRY = join(__dirname, 'keyring-worker-entry.cjs');

/**
 * Worker threads that each rebuild the keyring once and then run jobs of one catalog by name: the
 * registry import seals rows on them, the day file opens TC and HES on one. Results are promises;
 * callers await them in dispatch order where order matters.
 */
export class KeyringWorkerPool<Jobs extends KeyringJobs> {
  readonly #options: KeyringWorkerPoolOptions<Jobs>;
  readonly #threads: Thread[] = [];
  #next = 0;
  #id = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: KeyringWorkerPoolOptions<Jobs>) {
    this.#options = options;
    const workerData: KeyringWorkerStart = {
      keyring: options.keyring.toWorkerData(),
      jobsModule: options.jobsModule,
    };
    for (let i = 0; i < options.workers; i++) {
      const worker = new Worker(ENTRY, { workerData, resourceLimits: options.resourceLimits });
      const thread: Thread = { worker, pending: new Map() };
      worker.on('message', (reply: KeyringJobReply) => {
        const pending = thread.pending.get(reply.id);
        thread.pending.delete(reply.id);
        if ('failure' in reply) pending?.reject(new KeyringJobError(options.label, reply.failure));
        else pending?.resolve(reply.result);
      });
      // An uncaught error (the jobs module failed to load, out of memory) ends the worker: its
      // jobs fail with that error, and so does every later job sent to it, instead of hanging.
      worker.on('error', (err) => this.#lose(thread, err));
      worker.on('exit', () =>
        this.#lose(
          thread,
          new KeyringJobError(options.label, { name: 'WorkerExited', code: 'KEYRING_WORKER_EXITED' }),
        ),
      );
      this.#threads.push(thread);
    }
  }

  static start<Jobs extends KeyringJobs>(options: KeyringWorkerPoolOptions<Jobs>): KeyringWorkerPool<Jobs> {
    return new KeyringWorkerPool(options);
  }

  run<Name extends keyof Jobs & string>(
    job: Name,
    payload: Parameters<Jobs[Name]>[1],
  ): Promise<ReturnType<Jobs[Name]>> {
    type Result = ReturnType<Jobs[Name]>;
    if (this.#closing !== undefined) {
      return Promise.reject(
        new KeyringJobError(this.#options.label, { name: 'PoolClosed', code: 'KEYRING_POOL_CLOSED' }),
      );
    }
    const thread = this.#threads[this.#next++ % Math.max(1, this.#threads.length)];
    if (thread === undefined) {
      const inline = this.#options.jobs[job] as KeyringJob<Parameters<Jobs[Name]>[1], Result>;
      // Same thread: the job's own error (class, code, message) rejects as it was thrown.
      return new Promise((resolve) => resolve(inline(this.#options.keyring, payload)));
    }
    if (thread.gone !== undefined) return Promise.reject(thread.gone);
    const id = this.#id++;
    return new Promise<Result>((resolve, reject) => {
      thread.pending.set(id, { resolve: (result) => resolve(result as Result), reject });
      const request: KeyringJobRequest = { id, job, payload };
      // Copied, not transferred: a small Buffer.concat result lives in Node's shared buffer pool,
      // and transferring that ArrayBuffer would detach every other buffer in it.
      thread.worker.postMessage(request);
    });
  }

  #lose(thread: Thread, err: Error): void {
    thread.gone ??= err;
    for (const pending of thread.pending.values()) pending.reject(err);
    thread.pending.clear();
  }

  /** Stop the workers; jobs still running fail with `KEYRING_WORKER_EXITED`. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(this.#threads.map((t) => t.worker.terminate())).then(() => undefined);
    return this.#closing;
  }
}
