import { url } from '@boarding/config/env';
import { z } from 'zod';
import type { HesClientOptions } from './http-client';

/** The HES client's settings (SPEC §9: URL, timeouts and retries come from config). */
export const HesEnv = z.object({
  // The Ministry's HES service in production; the stand-in's address locally. http(s) only.
  HES_SERVICE_URL: url(['http:', 'https:']),
  // Limit of one request, answer included: a citizen at a kiosk waits for it, so keep it short.
  HES_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(3000),
  // Further tries after a timeout, refused connection or 5xx; worst wait ≈ (retries+1) × timeout.
  HES_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  // Consecutive failed requests that open the circuit: then requests fail fast with 503.
  HES_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  // How long an open circuit fails fast before one trial request checks the service is back.
  HES_BREAKER_RESET_MS: z.coerce.number().int().min(1).max(3_600_000).default(30000),
});
export type HesEnv = z.infer<typeof HesEnv>;

export function hesClientOptionsFromEnv(env: HesEnv): HesClientOptions {
  return {
    baseUrl: env.HES_SERVICE_URL,
    timeoutMs: env.HES_TIMEOUT_MS,
    retries: env.HES_RETRIES,
    breaker: { failureThreshold: env.HES_BREAKER_FAILURES, resetAfterMs: env.HES_BREAKER_RESET_MS },
  };
}
