import { withTimeout } from '@boarding/lifecycle/time-limit';

/** One line of `boarding doctor`: what was checked, whether it passed, and what to do if not. */
export type Check = {
  name: string;
  ok: boolean;
  /** What was found; never a secret (see redact.ts). */
  detail: string;
  /** The step that makes a failed check pass. */
  fix?: string;
};

/** What a check function decides; `timedCheck` names it and bounds it. */
export type CheckOutcome = Omit<Check, 'name'>;

/**
 * A dependency that answers within this is healthy; one that does not is a failed check. Below
 * the clients' own limits (pg 10 s, SFTP ready 10 s) would cut a slow-but-working server short.
 */
export const CHECK_LIMIT_MS = 12_000;

/**
 * Run one check within `limitMs`: a hung dependency is a failed check, never a hung doctor. A
 * check that throws fails with `explain(err)` (its message by default). The work is not
 * cancelled by the limit: each check closes its own connections when it settles.
 */
export async function timedCheck(
  name: string,
  limitMs: number,
  run: () => Promise<CheckOutcome>,
  explain: (err: unknown) => CheckOutcome = (err) => ({ ok: false, detail: messageOf(err) }),
): Promise<Check> {
  try {
    const outcome = await withTimeout(limitMs, run(), () => new CheckTimeoutError(limitMs));
    return { name, ...outcome };
  } catch (err) {
    if (err instanceof CheckTimeoutError) {
      const explained = explain(err);
      return { name, ok: false, detail: err.message, ...(explained.fix ? { fix: explained.fix } : {}) };
    }
    return { name, ...explain(err), ok: false };
  }
}

export class CheckTimeoutError extends Error {
  readonly code = 'CHECK_TIMEOUT';
  constructor(readonly limitMs: number) {
    super(`no answer within ${limitMs < 1000 ? `${limitMs} ms` : `${Math.round(limitMs / 1000)} s`}`);
    this.name = 'CheckTimeoutError';
  }
}

/** A check that could not run because an earlier one failed (migrations without PostgreSQL). */
export function notChecked(name: string, because: string, fix?: string): Check {
  return { name, ok: false, detail: `not checked: ${because}`, ...(fix ? { fix } : {}) };
}

/** An error's message with its code (`ECONNREFUSED`, `28P01`), for a detail line. */
export function messageOf(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; errors?: unknown };
  // A refused connection to a name with several addresses arrives as an AggregateError with an
  // empty message; its first error says what happened.
  if (Array.isArray(e?.errors) && e.errors.length > 0 && !e.message) return messageOf(e.errors[0]);
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  const code = typeof e?.code === 'string' && !message.includes(e.code) ? ` [${e.code}]` : '';
  return `${message}${code}`;
}

/** The error's code (`ECONNREFUSED`, a PostgreSQL SQLSTATE, `SFTP_HOST_KEY_MISMATCH`), if any. */
export function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown; originalError?: unknown; cause?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors) && e.errors.length > 0) return codeOf(e.errors[0]);
  // kafkajs gives up after retries with the last error inside.
  if (e?.originalError !== undefined) return codeOf(e.originalError);
  if (e?.cause !== undefined) return codeOf(e.cause);
  return undefined;
}
