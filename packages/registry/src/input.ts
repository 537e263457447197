import type { z } from 'zod';
import { RegistryError } from './errors';

/**
 * Parse a verb's input on its first line. The message names fields and rules only: the
 * contracts' schemas never echo a value, so a TC or HES code cannot reach an error or a log.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
  throw new RegistryError('INVALID_INPUT', `invalid input: ${problems.join('; ')}`, false, {
    fields: result.error.issues.map((i) => i.path.join('.')),
  });
}
