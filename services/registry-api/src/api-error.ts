import { classifyDatabaseError } from '@boarding/db/errors';
import { HesCodeMismatchError, HesServiceUnavailableError } from '@boarding/hes/verifier';
import { RegistryError } from '@boarding/registry/errors';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';

/** SPEC §9's error body. `field` names the request field at fault, or is null. */
export type ErrorBody = { code: string; field: string | null; message: string };

/** A failure the API answers with its own status and body (the transport's one error type). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    /** Seconds for a Retry-After header (429). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** 429 RATE_LIMITED; `field` names the per-TC limit (tcKimlikNo) or is null for the key's. */
  static rateLimited(retryAfterSeconds: number, field: string | null = null): ApiError {
    const what = field === null ? 'this API key' : 'this TC kimlik no';
    return new ApiError(
      429,
      'RATE_LIMITED',
      `too many requests for ${what}; try again later`,
      field,
      retryAfterSeconds,
    );
  }

  body(): ErrorBody {
    return { code: this.code, field: this.field, message: this.message };
  }
}

/**
 * The first problem of a request part, as 400 naming its field. The message is the schema's
 * rule (the contracts' schemas never echo a value) or zod's for a type or shape problem, which
 * quotes no input either: a TC or HES code typed into the wrong field is not sent back.
 */
export function invalidRequest(error: z.ZodError, part: 'body' | 'params' | 'query'): ApiError {
  const issue = error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : null;
  const rule = issue?.code === 'custom' ? issue.message : issueRule(issue);
  return new ApiError(400, 'INVALID_INPUT', `${field ?? part}: ${rule}`, field);
}

function issueRule(issue: z.core.$ZodIssue | undefined): string {
  switch (issue?.code) {
    case 'invalid_type':
      return `must be ${issue.expected}`;
    case 'unrecognized_keys':
      return `${issue.keys.length} unknown field(s)`;
    case 'too_big':
    case 'too_small':
      return 'has the wrong length';
    default:
      return 'invalid';
  }
}

// Fastify's own refusals (before a handler runs), as SPEC §9 bodies.
const FASTIFY_ERRORS: Record<string, { code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'BODY_TOO_LARGE', message: 'request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'send application/json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', message: 'body: empty JSON body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', message: 'body: not valid JSON' },
};

/**
 * 404 for a card with no current match, or none with the TC kimlik no the caller gave: one
 * answer for both, so a stranger holding a card number learns nothing from it.
 */
export function noCurrentMatch(): ApiError {
  return new ApiError(
    404,
    'NO_CURRENT_MATCH',
    'cardNo: the card has no current match (with this TC kimlik no, where one was given)',
    'cardNo',
  );
}

/**
 * The typed failures of the HES verifier and the registry verbs, as SPEC §9 answers. Messages
 * are ours, never theirs (theirs are masked, but a citizen needs no masked echo).
 */
function knownFailure(err: unknown): ApiError | undefined {
  if (err instanceof HesCodeMismatchError) {
    // 400, not 409: the request is wrong in one field the citizen can correct (typed the code
    // wrong, or an old one), not in conflict with the registry's state.
    return new ApiError(
      400,
      'HES_CODE_MISMATCH',
      'hesCode: the HES code does not belong to this TC kimlik no',
      'hesCode',
    );
  }
  if (err instanceof HesServiceUnavailableError) {
    return new ApiError(
      503,
      'HES_SERVICE_UNAVAILABLE',
      'the HES service cannot be reached; nothing was matched, try again shortly',
    );
  }
  if (err instanceof RegistryError) {
    switch (err.code) {
      case 'CARD_MATCHED_TO_ANOTHER_PERSON':
        return new ApiError(409, 'CARD_TAKEN', 'cardNo: the card is matched to another person', 'cardNo');
      case 'MATCH_OVERLAP':
        return new ApiError(
          409,
          'MATCH_OVERLAP',
          'a match of this card or person was made at the same time; try again',
        );
      case 'CARD_KIND_CONFLICT':
        return new ApiError(
          409,
          'CARD_KIND_CONFLICT',
          'cardKind: the card is registered with the other kind',
          'cardKind',
        );
      case 'NO_CURRENT_MATCH':
        return noCurrentMatch();
      case 'MATCH_NOT_FOUND':
        return new ApiError(
          404,
          'MATCH_NOT_FOUND',
          'matchId: no such match, or already retracted',
          'matchId',
        );
      case 'EMPTY_RANGE':
        return new ApiError(
          400,
          'EMPTY_RANGE',
          'replacement.validTo: must be after validFrom',
          'replacement.validTo',
        );
      case 'INVALID_INPUT':
        return new ApiError(400, 'INVALID_INPUT', 'invalid request');
      default:
        return undefined;
    }
  }
  return undefined;
}

/**
 * Any failure as the ApiError the client gets: ApiError as it is, the verbs' and the HES
 * verifier's typed failures by code, the database away as 503 DATABASE_UNAVAILABLE, anything
 * else a 500 INTERNAL whose message says nothing of the cause (it could hold SQL and its
 * parameters). The pages (pages/) turn the same into Turkish.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const mapped = knownFailure(err);
  if (mapped) return mapped;
  // The database away or busy: the client may try again (SPEC §9: 503), unlike a bug of ours.
  if (databaseAway(err)) {
    return new ApiError(503, 'DATABASE_UNAVAILABLE', 'the registry is unavailable; try again shortly');
  }
  return new ApiError(500, 'INTERNAL', 'internal error');
}

/**
 * Any failure of a request as the ApiError it is answered with: fastify's own refusals before a
 * handler ran (413, 415, bad JSON, a malformed request) by code, everything else by toApiError.
 * The JSON API and the pages (which say it in Turkish) both answer through this.
 */
export function requestFailure(err: FastifyError | ApiError, mediaType = 'application/json'): ApiError {
  if (err instanceof ApiError) return err;
  const known = FASTIFY_ERRORS[err.code];
  if (known && typeof err.statusCode === 'number') {
    const message = err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? `send ${mediaType}` : known.message;
    return new ApiError(err.statusCode, known.code, message);
  }
  if (err.statusCode === 400 && err.code?.startsWith('FST_')) {
    return new ApiError(400, 'INVALID_REQUEST', 'malformed request');
  }
  return toApiError(err);
}

/** Map every failure once, here (requestFailure). A 500 or 503 is logged by the error's name and code only. */
export function installErrorHandling(
  app: FastifyInstance,
  log: (entry: Record<string, unknown>, message: string) => void,
): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    logUnexpected(err, request.routeOptions.url, log);
    const api = requestFailure(err);
    if (api.retryAfterSeconds !== undefined) reply.header('retry-after', String(api.retryAfterSeconds));
    return reply.code(api.status).send(api.body());
  });
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send({ code: 'NOT_FOUND', field: null, message: 'no such route' } satisfies ErrorBody),
  );
}

/**
 * The log line of a failure that is not the client's: the HES service away (its reason only:
 * TIMEOUT, CONNECTION …), or anything that becomes a 500/503, by name and code: never the
 * error's message, which can hold SQL with its parameters (a sealed TC, a card).
 */
export function logUnexpected(
  err: unknown,
  route: string | undefined,
  log: (entry: Record<string, unknown>, message: string) => void,
): void {
  if (err instanceof HesServiceUnavailableError) {
    log({ route, error: err.name, reason: err.reason }, 'HES service unavailable');
    return;
  }
  if (err instanceof ApiError || knownFailure(err)) return;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('FST_')) return;
  const name = err instanceof Error ? err.name : typeof err;
  log({ route, error: name, code: typeof code === 'string' ? code : undefined }, 'request failed');
}

/** The database away or not answering (classifyDatabaseError looks through drizzle's wrapper). */
function databaseAway(err: unknown): boolean {
  return classifyDatabaseError(err) === 'transient';
}
