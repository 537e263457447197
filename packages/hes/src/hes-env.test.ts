import { HesEnv, hesClientOptionsFromEnv } from './hes-env';

describe('HesEnv', () => {
  it('requires HES_SERVICE_URL and defaults the limits', () => {
    expect(HesEnv.safeParse({}).success).toBe(false);
    const env = HesEnv.parse({ HES_SERVICE_URL: 'https://hes.example.gov.tr/api' });
    expect(env).toEqual({
      HES_SERVICE_URL: 'https://hes.example.gov.tr/api',
      HES_TIMEOUT_MS: 3000,
      HES_RETRIES: 2,
      HES_BREAKER_FAILURES: 5,
      HES_BREAKER_RESET_MS: 30000,
    });
    expect(hesClientOptionsFromEnv(env)).toEqual({
      baseUrl: 'https://hes.example.gov.tr/api',
      timeoutMs: 3000,
      retries: 2,
      breaker: { failureThreshold: 5, resetAfterMs: 30000 },
    });
  });

  it('refuses a URL that is not http(s) and limits out of range', () => {
    expect(HesEnv.safeParse({ HES_SERVICE_URL: 'ftp://x' }).success).toBe(false);
    expect(HesEnv.safeParse({ HES_SERVICE_URL: 'http://x', HES_TIMEOUT_MS: '0' }).success).toBe(false);
    expect(HesEnv.safeParse({ HES_SERVICE_URL: 'http://x', HES_RETRIES: '-1' }).success).toBe(false);
    expect(HesEnv.safeParse({ HES_SERVICE_URL: 'http://x', HES_BREAKER_FAILURES: '0' }).success).toBe(false);
  });
});
