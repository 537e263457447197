import { DatabaseEnv, EnvFlag, KafkaEnv } from '@boarding/config/env';
import { HesEnv } from '@boarding/hes/hes-env';
import { CARD_STATUS_TOPIC } from '@boarding/status-feed/card-status-message';
import { z } from 'zod';

export const RegistryApiEnv = DatabaseEnv.extend({
  // The HES service (SPEC §9): HES_SERVICE_URL (required), timeouts, retries, circuit breaker.
  ...HesEnv.shape,
  // Loopback by default: the API holds personal data, so being reachable from the network is a
  // deployment decision (behind the TLS-terminating proxy), never an accident of a default.
  REGISTRY_API_HOST: z.string().min(1).default('127.0.0.1'),
  // One port for the API and its ops endpoints (/healthz, /readyz, /metrics); 9101/9102 are the
  // ingest's and the exporter's.
  REGISTRY_API_PORT: z.coerce.number().int().min(0).max(65535).default(9103),
  // Largest request body accepted (bytes); a match request is a few hundred. Larger → 413, before
  // any parsing, so a client cannot make the API buffer megabytes.
  REGISTRY_API_BODY_LIMIT_BYTES: z.coerce.number().int().min(256).max(1_048_576).default(16_384),
  // Requests per API key per minute, every /v1 route. A kiosk serves one person at a time and a
  // match takes a minute of typing, so 120 leaves room for a busy web front end while a stolen or
  // runaway key cannot flood the registry or the HES service.
  REGISTRY_API_RATE_PER_KEY_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
  // Match attempts per TC kimlik no per hour, across all keys and cards: a person matches one card,
  // rarely a few; 10 forgives typing slips while a number cannot be tried against many cards
  // (or HES codes) through many keys. Keyed by an HMAC, never the clear TC.
  REGISTRY_API_RATE_PER_TC_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(10),
  // The WEB API key the public page at / uses when the browser has no device key (a citizen's own
  // phone or computer). A clear key from `boarding apikey create --channel WEB`, supplied by the
  // deployment and never committed: authenticated on every use like any key, so revoking it stops
  // the page at once and every match it makes is audited with its key id. Unset: / works only on
  // devices provisioned at /device.
  REGISTRY_API_WEB_PAGE_KEY: z.string().min(1).optional(),
  // Whether the device-key cookie carries Secure. Off by default because the local stack serves
  // plain http (a Secure cookie would never come back); on in any deployment behind TLS.
  REGISTRY_API_COOKIE_SECURE: EnvFlag.default(false),
  // Optional: with Kafka set, this process also runs the card status relay (SPEC §10), on standby
  // unless no other relay (another API replica, `boarding serve status-relay`) holds the lock. Kafka
  // away never stops the API: the outbox keeps every change until a relay publishes it.
  KAFKA_BROKERS: KafkaEnv.shape.KAFKA_BROKERS.optional(),
  KAFKA_CLIENT_ID: KafkaEnv.shape.KAFKA_CLIENT_ID,
  // The compacted topic the validators read; tests give each run its own.
  STATUS_TOPIC: z.string().min(1).default(CARD_STATUS_TOPIC),
  // Partitions when this process creates the topic (an existing one is only checked).
  STATUS_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(256).default(6),
});
export type RegistryApiEnv = z.infer<typeof RegistryApiEnv>;
