import { HesStatus, normaliseHesCode } from '@boarding/contracts/hes-code';
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
  HesCodeMismatchError,
  HesServiceUnavailableError,
  type HesStatusAnswer,
  type HesVerifier,
  type HesVerifyResult,
  MAX_STATUS_BATCH,
} from './verifier';

export type HesClientOptions = {
  /** Base URL of the HES service; the client POSTs to `{baseUrl}/v1/verify` and `/v1/statuses`. */
  baseUrl: string;
  /** Limit of one request, answer body included (a batch request too). */
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
const VerifyAnswer = z.object({ status: HesStatus });

// The batch's 200: one result per check, in order; a mismatch is named by the single endpoint's codes.
const StatusesAnswer = z.object({
  results: z.array(
    z.union([
      z.object({ status: HesStatus }),
      z.object({ code: z.enum(['HES_CODE_MISMATCH', 'HES_CODE_NOT_FOUND']) }),
    ]),
  ),
});

/**
 * The real HES client (README: the JSON contract). Each request is bounded by `timeoutMs`, goes
 * through the circuit breaker, and is retried with exponential backoff only when it failed in a
 * way another try may fix; a mismatch is an answer and is never retried. `verify` and `statuses`
 * share the breaker: both ask the same service.
 */
export function createHesClient(options: HesClientOptions): HesClient {
  const base = options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`;
  const verifyUrl = new URL('v1/verify', base);
  const statusesUrl = new URL('v1/statuses', base);
  const breaker = createCircuitBreaker({ ...options.breaker, now: options.now });
  const backoff = options.backoff ?? DEFAULT_BACKOFF;

  /** One POST, bounded by timeoutMs with its body: the HTTP status and text, or "unavailable". */
  async function post(
    url: URL,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; text: string }> {
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: combined,
      });
      return { status: res.status, text: await res.text() };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new HesServiceUnavailableError('TIMEOUT', `no answer within ${options.timeoutMs} ms`);
      }
      throw new HesServiceUnavailableError('CONNECTION', describeNetworkError(err));
    }
  }

  /** An answer that is neither 200 nor a mismatch. */
  function notAnAnswer(status: number): HesServiceUnavailableError {
    if (status >= 500 || status === 429 || status === 408) {
      return new HesServiceUnavailableError('HTTP_5XX', `answered ${status}`);
    }
    // 400, 401, 403, 413…: the service refuses our request itself; another try will not change that.
    return new HesServiceUnavailableError('UNEXPECTED_STATUS', `answered ${status}`, false);
  }

  // A mismatch is an answer; anything else that is not "unavailable" is the caller's abort.
  const judge = (err: unknown): RejectionKind =>
    err instanceof HesServiceUnavailableError
      ? 'failure'
      : err instanceof HesCodeMismatchError
        ? 'answer'
        : 'neutral';

  /** `attempt` (one request) through the breaker, retried with backoff while another try may help. */
  async function resilient<T>(attempt: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return await backOff(
        () =>
          breaker.run(attempt, judge).catch((err: unknown) => {
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
      return resilient(async (): Promise<HesVerifyResult> => {
        const res = await post(verifyUrl, body, signal);
        if (res.status === 200) {
          const answer = VerifyAnswer.safeParse(safeJson(res.text));
          if (!answer.success) {
            throw new HesServiceUnavailableError('MALFORMED_RESPONSE', 'a 200 answer without a valid status');
          }
          return { status: answer.data.status };
        }
        if (res.status === 404 || res.status === 409) throw new HesCodeMismatchError(input);
        throw notAnAnswer(res.status);
      }, signal);
    },

    async statuses(inputs, statusOptions = {}) {
      const { signal } = statusOptions;
      signal?.throwIfAborted();
      const answers: (HesStatusAnswer | undefined)[] = new Array(inputs.length).fill(undefined);
      // Entries that are not a TC and a HES code are mismatches without asking, as in verify.
      const asked: { index: number; tc: string; hes: string }[] = [];
      inputs.forEach((input, index) => {
        const hes = normaliseHesCode(input.hesCode);
        if (!hes.ok || !isValidTcKimlikNo(input.tcKimlikNo)) answers[index] = { mismatch: true };
        else asked.push({ index, tc: input.tcKimlikNo.trim(), hes: hes.value });
      });
      for (let start = 0; start < asked.length; start += MAX_STATUS_BATCH) {
        const chunk = asked.slice(start, start + MAX_STATUS_BATCH);
        const body = JSON.stringify({ checks: chunk.map(({ tc, hes }) => ({ tc, hes })) });
        const results = await resilient(async (): Promise<HesStatusAnswer[]> => {
          const res = await post(statusesUrl, body, signal);
          if (res.status !== 200) throw notAnAnswer(res.status);
          const answer = StatusesAnswer.safeParse(safeJson(res.text));
          // One result per check, or the list cannot be matched to the checks: not an answer.
          if (!answer.success || answer.data.results.length !== chunk.length) {
            throw new HesServiceUnavailableError(
              'MALFORMED_RESPONSE',
              'a 200 answer without one valid result per check',
            );
          }
          return answer.data.results.map((r) => ('status' in r ? { status: r.status } : { mismatch: true }));
        }, signal);
        results.forEach((result, j) => {
          const entry = chunk[j];
          if (entry) answers[entry.index] = result;
        });
      }
      return answers.map((a) => a ?? { mismatch: true as const });
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
