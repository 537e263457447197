import type { HesStatus } from '@boarding/contracts/hes-code';
import { maskHes, maskTc } from '@boarding/contracts/mask';

export type HesVerifyInput = { tcKimlikNo: string; hesCode: string };
export type HesVerifyResult = { status: HesStatus };

/**
 * One answer of a batch (`statuses`): the code's status, or `mismatch` when the code does not
 * belong to that TC (any more), is unknown, or is not a HES code at all. A mismatch is an answer
 * about one entry, not a failure of the batch.
 */
export type HesStatusAnswer = { status: HesStatus } | { mismatch: true };

/**
 * Most entries in one batch request (the wire contract's limit; the stand-in answers 413 above
 * it). The HTTP client splits a longer list into requests of this size.
 */
export const MAX_STATUS_BATCH = 1000;

/**
 * The Ministry's HES service (SPEC §9): does this HES code belong to this TC, and what is its
 * status? Resolves with the status, or rejects with HesCodeMismatchError (the answer is no) or
 * HesServiceUnavailableError (no answer could be had). Nothing else means "accepted": a caller
 * must never treat a failure as a yes. Chosen in `main.ts`: the HTTP client in a service, the
 * in-memory twin in unit tests of callers.
 */
export type HesVerifier = {
  verify(input: HesVerifyInput, options?: { signal?: AbortSignal }): Promise<HesVerifyResult>;
  /**
   * The status of many codes at once (SPEC §10's scheduled refresh): one answer per input, in the
   * inputs' order. Rejects with HesServiceUnavailableError when the service cannot answer the
   * batch: never a partial list, so a caller never mistakes "not asked" for an answer.
   */
  statuses(inputs: readonly HesVerifyInput[], options?: { signal?: AbortSignal }): Promise<HesStatusAnswer[]>;
};

/** The HES code does not belong to that TC (or the service does not know it). Never retried. */
export class HesCodeMismatchError extends Error {
  readonly code = 'HES_CODE_MISMATCH';
  readonly retryable = false;
  constructor(input: HesVerifyInput) {
    // KVKK (SPEC §3): only masked values, so the message may be logged as it is.
    super(`HES code ${maskHes(input.hesCode)} does not belong to TC ${maskTc(input.tcKimlikNo)}`);
    this.name = 'HesCodeMismatchError';
  }
}

/** Why no answer could be had; for logs and metrics, never shown to a citizen. */
export type HesUnavailableReason =
  | 'TIMEOUT'
  | 'CONNECTION'
  | 'HTTP_5XX'
  | 'UNEXPECTED_STATUS'
  | 'MALFORMED_RESPONSE'
  | 'CIRCUIT_OPEN';

/**
 * The HES service could not answer: timeout, connection refused, 5xx, a body that is no answer,
 * or the circuit breaker is open. The registry API maps it to 503 HES_SERVICE_UNAVAILABLE.
 * Messages never carry the TC or HES code (callers pass only the reason and a description).
 */
export class HesServiceUnavailableError extends Error {
  readonly code = 'HES_SERVICE_UNAVAILABLE';
  constructor(
    readonly reason: HesUnavailableReason,
    detail: string,
    // False only when the service refused the request itself (e.g. 401): trying again cannot help.
    readonly retryable = true,
  ) {
    super(`HES service unavailable (${reason}): ${detail}`);
    this.name = 'HesServiceUnavailableError';
  }
}
