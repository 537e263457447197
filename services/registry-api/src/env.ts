import { DatabaseEnv } from '@boarding/config/env';
import { z } from 'zod';

export const RegistryApiEnv = DatabaseEnv.extend({
  // Loopback by default: the API holds personal data, so being reachable from the network is a
  // deployment decision (behind the TLS-terminating proxy), never an accident of a default.
  REGISTRY_API_HOST: z.string().min(1).default('127.0.0.1'),
  // One port for the API and its ops endpoints (/healthz, /readyz, /metrics); 9101/9102 are the
  // ingest's and the exporter's.
  REGISTRY_API_PORT: z.coerce.number().int().min(0).max(65535).default(9103),
  // Largest request body accepted (bytes); a match request is a few hundred. Larger → 413, before
  // any parsing, so a client cannot make the API buffer megabytes.
  REGISTRY_API_BODY_LIMIT_BYTES: z.coerce.number().int().min(256).max(1_048_576).default(16_384),
});
export type RegistryApiEnv = z.infer<typeof RegistryApiEnv>;
