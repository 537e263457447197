import { z } from 'zod';
import { isReasonCode, type ReasonCode } from './reasons';

// Internal to the package: how field validators attach a reason code to a zod issue, and how
// the first issue becomes a `{ reason, detail }` that is safe to log.

export type Check<T> = { ok: true; value: T } | { ok: false; reason: ReasonCode; message: string };

export type Failure = { reason: ReasonCode; detail: string };

/**
 * A string schema whose failures carry a reason code. The message must name the rule, never
 * echo the input: it ends up in dead-letter rows and import reports.
 */
export function reasonedString<T>(check: (input: string) => Check<T>) {
  return z.string().transform((input, ctx): T => {
    const result = check(input);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: result.message, params: { reason: result.reason } });
    return z.NEVER;
  });
}

/**
 * Maps the first zod issue to a reason and a detail built only from field names and the
 * schema's own rules. zod's messages are not used as they stand: some quote the offending
 * keys, and a future version or locale could quote values (a card number, a TC).
 */
export function describeFirstIssue(error: z.ZodError, input: unknown): Failure {
  const issue = error.issues[0];
  if (issue === undefined) return { reason: 'INVALID_FIELD', detail: 'invalid' };
  const field = issue.path.map(String).join('.');
  const at = (text: string): string => (field === '' ? text : `${field}: ${text}`);
  switch (issue.code) {
    case 'custom': {
      const reason: unknown = issue.params?.reason;
      return { reason: isReasonCode(reason) ? reason : 'INVALID_FIELD', detail: at(issue.message) };
    }
    case 'unrecognized_keys':
      // Key names are producer-controlled text, so only their number is reported.
      return {
        reason: 'UNKNOWN_FIELD',
        detail: at(`${issue.keys.length} unexpected key${issue.keys.length === 1 ? '' : 's'}`),
      };
    case 'invalid_type': {
      const missing = issue.path.length === 1 && isRecord(input) && !hasOwn(input, issue.path[0]);
      return { reason: 'INVALID_FIELD', detail: at(missing ? 'required' : `expected ${issue.expected}`) };
    }
    case 'too_small':
      return {
        reason: 'INVALID_FIELD',
        detail: at(
          issue.origin === 'string'
            ? `must have at least ${characters(issue.minimum)}`
            : `must be >= ${String(issue.minimum)}`,
        ),
      };
    case 'too_big':
      return {
        reason: 'INVALID_FIELD',
        detail: at(
          issue.origin === 'string'
            ? `must have at most ${characters(issue.maximum)}`
            : `must be <= ${String(issue.maximum)}`,
        ),
      };
    case 'invalid_format':
      return {
        reason: 'INVALID_FIELD',
        detail: at(issue.pattern === undefined ? `must be ${issue.format}` : `must match ${issue.pattern}`),
      };
    case 'invalid_value':
      return { reason: 'INVALID_FIELD', detail: at(`must be one of ${issue.values.map(String).join('|')}`) };
    default:
      return { reason: 'INVALID_FIELD', detail: at('invalid') };
  }
}

function characters(count: number | bigint): string {
  return `${String(count)} character${count === 1 ? '' : 's'}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(record: Record<string, unknown>, key: PropertyKey | undefined): boolean {
  return key !== undefined && Object.hasOwn(record, key);
}
