/**
 * A context names the kind of value (`tc`, `hes`). It is the AAD of the field cipher, so a TC
 * ciphertext copied into a HES column fails to decrypt, and the domain of the blind index, so the
 * same digits indexed as TC and as something else give unrelated values.
 *
 * A letter first and no `\0`: the blind index hashes `context + '\0' + value`, which is only
 * unambiguous while the context cannot contain the separator.
 */
const CONTEXT = /^[a-z][a-z0-9_.-]{0,31}$/;

/**
 * The contexts of the registry's personal data, one home for every writer and reader: a value
 * sealed under one spelling opens only under the same one, so the registry, the bulk import, the
 * export and the bench must not each keep their own copy.
 */
export const FIELD_CONTEXT = { tc: 'tc', hes: 'hes' } as const;

/** A caller passed a context that is not a label: a programming error, never retried. */
export class InvalidContextError extends Error {
  readonly code = 'PII_INVALID_CONTEXT';
  readonly retryable = false;
  constructor(length: number) {
    // The rejected string is not echoed: with the arguments swapped it would be the TC number.
    super(
      `context must be 1–32 characters of a-z, 0-9, '_', '.' or '-', starting with a letter ` +
        `(got ${length} characters)`,
    );
    this.name = 'InvalidContextError';
  }
}

// Contexts are a handful of constants in code; caching their bytes keeps the bulk import from
// allocating the same AAD millions of times. The cap keeps a misuse from growing the map forever.
const cache = new Map<string, Buffer>();
const CACHE_LIMIT = 64;

/** The UTF-8 bytes of a validated context. Throws `InvalidContextError` for anything else. */
export function contextBytes(context: string): Buffer {
  const cached = cache.get(context);
  if (cached !== undefined) return cached;
  if (typeof context !== 'string' || !CONTEXT.test(context)) {
    throw new InvalidContextError(typeof context === 'string' ? context.length : 0);
  }
  const bytes = Buffer.from(context, 'utf8');
  if (cache.size < CACHE_LIMIT) cache.set(context, bytes);
  return bytes;
}

/** Throws `InvalidContextError` unless `context` is a valid label. */
export function assertContext(context: string): void {
  contextBytes(context);
}
