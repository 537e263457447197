import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import { Redis } from 'ioredis';

/** How long QUIT may take at shutdown before the connection is simply dropped. */
const QUIT_TIMEOUT_MS = 2000;

/**
 * The one Redis connection a service's BullMQ queues and workers share, registered with the
 * shutdown registry. `maxRetriesPerRequest: null` is what BullMQ requires of a blocking
 * connection; reconnect failures are logged (the message names no secret) instead of ioredis
 * printing each one.
 */
export function createQueueConnection(url: string, logger: Logger, shutdown: ShutdownRegistry): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  shutdown.register('redis', async () => {
    // QUIT is a command: with Redis away it would sit in ioredis's offline queue forever.
    if (redis.status !== 'ready') return redis.disconnect();
    await withTimeout(QUIT_TIMEOUT_MS, redis.quit(), () => new Error('QUIT unanswered')).catch(() =>
      redis.disconnect(),
    );
  });
  return redis;
}
