import { backOff } from 'exponential-backoff';
import type { DeliveryFile, DeliveryTransport } from './transport';

export type RetryPolicy = {
  /** Tries in all, the first included. */
  attempts: number;
  /** Wait before the second try; doubled after each failure, up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
};

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, initialDelayMs: 2000, maxDelayMs: 60000 };

/** What one try ended in, for the ledger. */
export type AttemptReport = {
  attempt: number;
  startedAt: Date;
  error: { code: string; message: string; retryable: boolean } | null;
};

/**
 * Errors worth another try are the transient ones (server down, connection reset, timeout,
 * short upload). A wrong host key or refused credentials will not change by waiting: they stop
 * at once, so an impostor is not asked again and again.
 */
export function describeDeliveryError(err: unknown): { code: string; message: string; retryable: boolean } {
  const e = err as { code?: unknown; retryable?: unknown; level?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (e.retryable === false) return { code: String(e.code ?? 'DELIVERY_FAILED'), message, retryable: false };
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return { code: 'SFTP_AUTH_REFUSED', message, retryable: false };
  }
  const code = typeof e.code === 'string' ? e.code : 'DELIVERY_FAILED';
  return { code, message, retryable: true };
}

/** Every try failed, or one failed in a way that retrying cannot fix. */
export class DeliveryFailedError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: string,
    message: string,
    readonly attempts: number,
    retryable: boolean,
  ) {
    super(`delivery failed after ${attempts} attempt(s): ${message}`);
    this.name = 'DeliveryFailedError';
    this.retryable = retryable;
  }
}

/**
 * Deliver with exponential backoff (full jitter, so several exporters do not retry in step).
 * `onAttempt` sees every try as it ends, success or not, before the next wait: the caller
 * writes it to the ledger, so a crash during the backoff loses no record. An abort of `signal`
 * stops the try in flight (the transport closes its connection; the try is reported with the
 * reason's code) and any wait, and rejects with the signal's reason: no further try.
 */
export async function deliverWithRetry(
  transport: DeliveryTransport,
  files: DeliveryFile[],
  options: {
    policy?: RetryPolicy;
    /**
     * Before each try's upload: the caller writes the try to the ledger (IN_FLIGHT). If it
     * throws, nothing is sent on that try (the ledger must know before a byte leaves).
     */
    beforeAttempt?: (attempt: number) => Promise<void>;
    onAttempt: (report: AttemptReport) => Promise<void>;
    /** Stops the delivery (the try in flight, the waits, the tries to come); see above. */
    signal?: AbortSignal;
  },
): Promise<{ attempts: number }> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const { signal } = options;
  signal?.throwIfAborted();
  let attempt = 0;
  let last: { code: string; message: string; retryable: boolean } | undefined;
  // A try in flight ends by itself on an abort (the transport honours the signal) and is
  // reported. The backoff library's wait between tries cannot be cancelled (its timer runs out
  // unheeded, at most maxDelayMs): an abort during it rejects at once from here, and the try
  // that would follow the wait starts nothing.
  let waiting = false;
  let stopWait: (reason: unknown) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    stopWait = reject;
  });
  aborted.catch(() => undefined);
  const onAbort = () => {
    if (waiting) stopWait(signal?.reason);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const tries = backOff(
      async () => {
        waiting = false;
        signal?.throwIfAborted();
        attempt++;
        const startedAt = new Date();
        try {
          await options.beforeAttempt?.(attempt);
        } catch (err) {
          last = describeDeliveryError(err);
          waiting = true;
          throw err;
        }
        try {
          await transport.deliver(files, { signal });
        } catch (err) {
          last = describeDeliveryError(err);
          await options.onAttempt({ attempt, startedAt, error: last });
          waiting = true;
          throw err;
        }
        await options.onAttempt({ attempt, startedAt, error: null });
      },
      {
        numOfAttempts: policy.attempts,
        startingDelay: policy.initialDelayMs,
        maxDelay: policy.maxDelayMs,
        timeMultiple: 2,
        jitter: 'full',
        retry: () => !signal?.aborted && (last?.retryable ?? true),
      },
    );
    tries.catch(() => undefined);
    await Promise.race([tries, aborted]);
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (!last) throw err;
    throw new DeliveryFailedError(last.code, last.message, attempt, last.retryable);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return { attempts: attempt };
}
