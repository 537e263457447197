import type { z } from 'zod';
import type { Check } from './check';
import { redact, secretValues, shownValue } from './redact';

/** A service and the schema its process parses its environment with (its `env.ts`). */
export type ServiceSettings = { service: string; schema: z.ZodObject };

/**
 * Where a command's settings come from, as `loadEnv` reads them: the process environment wins,
 * `.local/stack.env` (written by `boarding stack up`) fills in the rest, then the schema's default.
 */
export type SettingsSource = {
  processEnv: Record<string, string | undefined>;
  stackEnv: Record<string, string>;
  stackEnvPath: string;
};

export type SettingOrigin = 'environment' | 'stack.env' | 'default' | 'unset';

/** A variable's value and where it came from, before any schema judged it. */
export function settingOrigin(
  name: string,
  source: SettingsSource,
): { value: string | undefined; origin: Exclude<SettingOrigin, 'default'> } {
  const fromEnv = source.processEnv[name];
  if (fromEnv !== undefined) return { value: fromEnv, origin: 'environment' };
  const fromFile = source.stackEnv[name];
  if (fromFile !== undefined) return { value: fromFile, origin: 'stack.env' };
  return { value: undefined, origin: 'unset' };
}

const shownDefault = (name: string, value: unknown): string =>
  shownValue(name, Array.isArray(value) ? value.join(',') : String(value));

/**
 * One check per variable any of `services` reads: present or missing, valid or not for each service
 * that reads it, and from where (`environment`, `.local/stack.env` or the default). A secret's value
 * is never shown (redact.ts); a problem is the schema's rule, never the value that broke it.
 */
export function settingChecks(services: readonly ServiceSettings[], source: SettingsSource): Check[] {
  const readers = new Map<string, { service: string; field: z.ZodType }[]>();
  for (const { service, schema } of services) {
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      readers.set(name, [...(readers.get(name) ?? []), { service, field }]);
    }
  }
  const secrets = secretValues({ ...source.stackEnv, ...source.processEnv });
  const where = (origin: string) => (origin === 'environment' ? 'the environment' : source.stackEnvPath);
  return [...readers].map(([name, fields]) => {
    const { value, origin } = settingOrigin(name, source);
    const by = `[${fields.map((f) => f.service).join(', ')}]`;
    const results = fields.map((f) => ({ service: f.service, result: f.field.safeParse(value) }));
    const failed = results.filter((r) => !r.result.success);
    const check = `setting ${name}`;
    if (failed.length > 0) {
      const services = failed.map((f) => f.service).join(', ');
      if (value === undefined) {
        return {
          name: check,
          ok: false,
          detail: `not set; needed by ${services}`,
          fix: `set ${name} in the environment or in ${source.stackEnvPath}`,
        };
      }
      const rule = failed[0]?.result.error?.issues[0]?.message ?? 'invalid';
      return {
        name: check,
        ok: false,
        detail: redact(
          `from ${origin === 'environment' ? 'the environment' : 'stack.env'}: ${rule} (${services})`,
          secrets,
        ),
        fix: `correct ${name} in ${where(origin)}`,
      };
    }
    if (value !== undefined) {
      const from = origin === 'environment' ? 'environment' : 'stack.env';
      return { name: check, ok: true, detail: `${shownValue(name, value)} (from ${from}) ${by}` };
    }
    const parsed = results[0]?.result.data;
    return {
      name: check,
      ok: true,
      detail:
        parsed === undefined ? `unset (optional) ${by}` : `${shownDefault(name, parsed)} (default) ${by}`,
    };
  });
}
