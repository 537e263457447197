import { z } from 'zod';
import { type SettingsSource, settingChecks } from './setting-checks';

const Ingest = z.object({
  DATABASE_URL: z.string().url(),
  KAFKA_TAPS_TOPIC: z.string().min(1).default('validator.taps.v1'),
  INGEST_PORT: z.coerce.number().int().max(65535).default(9101),
});
const Api = z.object({
  DATABASE_URL: z.string().url(),
  HES_SERVICE_URL: z.string().url(),
  KAFKA_BROKERS: z.string().optional(),
  REGISTRY_API_WEB_PAGE_KEY: z.string().min(1).optional(),
});
const services = [
  { service: 'ingest', schema: Ingest },
  { service: 'registry-api', schema: Api },
];
const source = (processEnv: Record<string, string>, stackEnv: Record<string, string>): SettingsSource => ({
  processEnv,
  stackEnv,
  stackEnvPath: '/repo/.local/stack.env',
});

describe('settingChecks', () => {
  it('says where each setting comes from: the environment over stack.env, then the default', () => {
    const checks = settingChecks(
      services,
      source(
        { KAFKA_TAPS_TOPIC: 'someone.elses.topic', HES_SERVICE_URL: 'http://127.0.0.1:9105' },
        {
          DATABASE_URL: 'postgres://app:pw-in-file@127.0.0.1:15432/boarding',
          KAFKA_TAPS_TOPIC: 'validator.taps.v1',
        },
      ),
    );
    expect(checks).toEqual([
      {
        name: 'setting DATABASE_URL',
        ok: true,
        detail: 'postgres://***@127.0.0.1:15432/boarding (from stack.env) [ingest, registry-api]',
      },
      {
        name: 'setting KAFKA_TAPS_TOPIC',
        ok: true,
        detail: 'someone.elses.topic (from environment) [ingest]',
      },
      { name: 'setting INGEST_PORT', ok: true, detail: '9101 (default) [ingest]' },
      {
        name: 'setting HES_SERVICE_URL',
        ok: true,
        detail: 'http://127.0.0.1:9105 (from environment) [registry-api]',
      },
      { name: 'setting KAFKA_BROKERS', ok: true, detail: 'unset (optional) [registry-api]' },
      { name: 'setting REGISTRY_API_WEB_PAGE_KEY', ok: true, detail: 'unset (optional) [registry-api]' },
    ]);
  });

  it('fails a missing required setting, naming the services that need it and where to set it', () => {
    const checks = settingChecks(services, source({}, { DATABASE_URL: 'postgres://127.0.0.1:1/db' }));
    expect(checks.find((c) => c.name === 'setting HES_SERVICE_URL')).toEqual({
      name: 'setting HES_SERVICE_URL',
      ok: false,
      detail: 'not set; needed by registry-api',
      fix: 'set HES_SERVICE_URL in the environment or in /repo/.local/stack.env',
    });
  });

  it('fails a malformed setting with the rule it broke and where it came from, never its value', () => {
    const checks = settingChecks(
      services,
      source({ INGEST_PORT: '99999' }, { DATABASE_URL: 'not a url but s3cret-looking' }),
    );
    const port = checks.find((c) => c.name === 'setting INGEST_PORT');
    expect(port).toMatchObject({ ok: false, fix: 'correct INGEST_PORT in the environment' });
    expect(port?.detail).toMatch(/^from the environment: .*65535.* \(ingest\)$/);
    expect(port?.detail).not.toContain('99999');
    const url = checks.find((c) => c.name === 'setting DATABASE_URL');
    expect(url).toMatchObject({ ok: false, fix: 'correct DATABASE_URL in /repo/.local/stack.env' });
    expect(url?.detail).toMatch(/^from stack.env: .* \(ingest, registry-api\)$/);
    expect(url?.detail).not.toContain('s3cret');
  });

  it('says a secret is set without printing it', () => {
    const checks = settingChecks(
      services,
      source({ REGISTRY_API_WEB_PAGE_KEY: 'bk_live_0123456789abcdef' }, {}),
    );
    const key = checks.find((c) => c.name === 'setting REGISTRY_API_WEB_PAGE_KEY');
    expect(key).toEqual({
      name: 'setting REGISTRY_API_WEB_PAGE_KEY',
      ok: true,
      detail: 'set (secret, not shown) (from environment) [registry-api]',
    });
  });
});
