import { parentPort, workerData } from 'node:worker_threads';
import { Keyring } from './keyring';
import type {
  KeyringJobFailure,
  KeyringJobReply,
  KeyringJobRequest,
  KeyringJobs,
  KeyringWorkerStart,
} from './keyring-worker-pool';

/** A job name the catalog does not have: a programming error, never retried. */
class UnknownKeyringJobError extends Error {
  readonly code = 'KEYRING_JOB_UNKNOWN';
  readonly retryable = false;
  constructor(job: string, path: string) {
    super(`${path} has no keyring job ${job}`);
    this.name = 'UnknownKeyringJobError';
  }
}

function loadJobs(path: string): KeyringJobs {
  // require, not import(): the catalog is a TypeScript module, compiled by the tsx CommonJS hook
  // the entry (keyring-worker-entry.cjs) registered.
  const loaded: unknown = require(path);
  if (typeof loaded === 'object' && loaded !== null && 'keyringJobs' in loaded) {
    const jobs = loaded.keyringJobs;
    if (typeof jobs === 'object' && jobs !== null) return jobs as KeyringJobs;
  }
  throw new Error(`${path} does not export keyringJobs`);
}

// Name and code are the only words of a failure that leave the worker: held to label shapes, they
// cannot carry a value the job was working on.
const NAME = /^\w{1,64}$/;
const CODE = /^[A-Za-z0-9_.-]{1,64}$/;

function describeFailure(err: unknown): KeyringJobFailure {
  const e: { name?: unknown; code?: unknown; retryable?: unknown } =
    typeof err === 'object' && err !== null ? err : {};
  const failure: KeyringJobFailure = {
    name: typeof e.name === 'string' && NAME.test(e.name) ? e.name : 'Error',
  };
  if (typeof e.code === 'string' && CODE.test(e.code)) failure.code = e.code;
  if (typeof e.retryable === 'boolean') failure.retryable = e.retryable;
  return failure;
}

const start = workerData as KeyringWorkerStart;
const keyring = Keyring.fromWorkerData(start.keyring);
const jobs = loadJobs(start.jobsModule);

parentPort?.on('message', (request: KeyringJobRequest) => {
  let reply: KeyringJobReply;
  try {
    const job = Object.hasOwn(jobs, request.job) ? jobs[request.job] : undefined;
    if (job === undefined) throw new UnknownKeyringJobError(request.job, start.jobsModule);
    reply = { id: request.id, result: job(keyring, request.payload as never) };
    parentPort?.postMessage(reply);
  } catch (err) {
    // Also a result that cannot be cloned (DataCloneError): the caller hears of it either way.
    reply = { id: request.id, failure: describeFailure(err) };
    parentPort?.postMessage(reply);
  }
});
