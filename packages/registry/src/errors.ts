/** Every failure a registry verb reports: a stable code, and whether trying again may help. */
export type RegistryErrorCode =
  | 'INVALID_INPUT'
  | 'MATCH_OVERLAP'
  | 'CARD_MATCHED_TO_ANOTHER_PERSON'
  | 'CARD_KIND_CONFLICT'
  | 'NO_CURRENT_MATCH'
  | 'MATCH_NOT_FOUND'
  | 'EMPTY_RANGE';

export class RegistryError extends Error {
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    readonly retryable = false,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

const PG_EXCLUSION_VIOLATION = '23P01';

/** The PostgreSQL error behind a driver/drizzle error, if any. */
function pgError(err: unknown): { code?: string; constraint?: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const candidate = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code)) {
      return {
        code: candidate.code,
        constraint: typeof candidate.constraint === 'string' ? candidate.constraint : undefined,
      };
    }
    e = candidate.cause;
  }
  return undefined;
}

/**
 * The database refused an overlapping match (exclusion constraint): another channel got there
 * first. Mapped once here so every verb reports it the same way, never as a raw SQL error.
 */
export function mapConstraintError(err: unknown): unknown {
  const pg = pgError(err);
  if (pg?.code !== PG_EXCLUSION_VIOLATION) return err;
  return matchOverlapError(pg.constraint);
}

/** MATCH_OVERLAP as the exclusion constraint named would report it. */
export function matchOverlapError(constraint: string | undefined): RegistryError {
  const what =
    constraint === 'matches_one_per_person'
      ? 'the person already has a card matched over that time'
      : 'the card already has a match over that time';
  // Retryable: the competing change is committed now, so reading again shows the new state.
  return new RegistryError('MATCH_OVERLAP', `conflicting match: ${what} (${constraint})`, true, {
    constraint,
  });
}
