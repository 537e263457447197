import { normaliseHesCode } from '@boarding/contracts/hes-code';
import { isValidTcKimlikNo } from '@boarding/contracts/tc-kimlik';
import { backOff } from 'exponential-backoff';
import { z } from 'zod';
import {
  CircuitOpenError,
  type CircuitState,
  createCircuitBreaker,
  type RejectionKind,
} from './circuit-breaker';
import {
  HES_STATUSES,
  HesCodeMismatchError,
  HesServiceUnavailableError,
  type HesVerifier,
  type HesVerifyInput,
  type HesVerifyResult,
} from './verifier';

export type HesClientOptions = {
  /** Base URL of the HES service; the client POSTs to `{baseUrl}/v1/verify`. */
  baseUrl: string;
  /** Limit of one request, answer body included. */
  timeoutMs: number;
  /** Further tries after a retryable failure (0 = one request only). */
  retries: number;
  breaker: { failureThreshold: number; resetAfterMs: number };
  /** Wait before the first retry, doubled each time up to maxDelayMs, with full jitter. */
  backoff?: { startingDelayMs: number; maxDelayMs: number };
  now?: () => number;
};

export type HesClient = HesVerifier & { breakerState(): CircuitState };

const DEFAULT_BACKOFF = { startingDelayMs: 100, maxDelayMs: 1_000 };

// The answer of 200. Anything else in a 200 is not an answer: never a silent accept.
const VerifyAnswer = z.object({ status: z.enum(HES_STATUSES as [string, ...string[]]) });

/**
 * The real HES client (README: the JSON contract). Each request is bounded by `timeoutMs`, goes
 * through the circuit breaker, and is retried with exponential backoff only when it failed in a
 * way another try may fix; a mismatch is an answer and is never retried.
 */
export function createHesClient(options: HesClientOptions): HesClient {
  const url = new URL('v1/verify', options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  const breaker = createCircuitBreaker({ ...options.breaker, now: options.now });
  const backoff = options.backoff ?? DEFAULT_BACKOFF;

  async function requestOnce(
    input: HesVerifyInput,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<HesVerifyResult> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: combined,
      });
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new HesServiceUnavailableError('TIMEOUT', `no answer within ${options.timeoutMs} ms`);
      }
      throw new HesServiceUnavailableError('CONNECTION', describeNetworkError(err));
    }
    if (res.status === 200) {
      const answer = VerifyAnswer.safeParse(safeJson(text));
      if (!answer.success) {
        throw new HesServiceUnavailableError('MALFORMED_RESPONSE', 'a 200 answer without a valid status');
      }
      return { status: answer.data.status as HesVerifyResult['status'] };
    }
    if (res.status === 404 || res.status === 409) throw new HesCodeMismatchError(input);
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      throw new HesServiceUnavailableError('HTTP_5XX', `answered ${res.status}`);
    }
    // 400, 401, 403…: the service refuses our request itself; another try will not change that.
    throw new HesServiceUnavailableError('UNEXPECTED_STATUS', `answered ${res.status}`, false);
  }

  return {
    breakerState: () => breaker.state(),
    async verify(input, verifyOptions = {}) {
      const { signal } = verifyOptions;
      signal?.throwIfAborted();
      const hes = normaliseHesCode(input.hesCode);
      // Neither a TC nor a HES code: it cannot belong to it, and the service need not be asked.
      if (!hes.ok || !isValidTcKimlikNo(input.tcKimlikNo)) throw new HesCodeMismatchError(input);
      const body = JSON.stringify({ tc: input.tcKimlikNo.trim(), hes: hes.value });
      // A mismatch is an answer; anything else that is not "unavailable" is the caller's abort.
      const judge = (err: unknown): RejectionKind =>
        err instanceof HesServiceUnavailableError
          ? 'failure'
          : err instanceof HesCodeMismatchError
            ? 'answer'
            : 'neutral';
      try {
        return await backOff(
          () =>
            breaker
              .run(() => requestOnce(input, body, signal), judge)
              .catch((err: unknown) => {
                if (err instanceof CircuitOpenError) {
                  throw new HesServiceUnavailableError('CIRCUIT_OPEN', 'circuit breaker open: failing fast');
                }
                throw err;
              }),
          {
            numOfAttempts: options.retries + 1,
            startingDelay: backoff.startingDelayMs,
            maxDelay: backoff.maxDelayMs,
            timeMultiple: 2,
            jitter: 'full',
            // Retrying into an open breaker would only fail fast again.
            retry: (err: unknown) =>
              !signal?.aborted &&
              err instanceof HesServiceUnavailableError &&
              err.retryable &&
              breaker.state() !== 'open',
          },
        );
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        throw err;
      }
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The network error's code (ECONNREFUSED…) without its text, which may hold the URL. */
function describeNetworkError(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? `request failed (${cause.code})` : 'request failed';
}
