import Redis from 'ioredis';
import { CHECK_LIMIT_MS, type Check, messageOf, timedCheck } from './check';
import { reachFix } from './reach-fix';
import { withoutCredentials } from './redact';

/** Redis answers PING on REDIS_URL, with its password. */
export function checkRedis(url: string, limitMs = CHECK_LIMIT_MS): Promise<Check> {
  const at = withoutCredentials(url);
  // One try, no reconnects, no offline queue: the check sees the first failure as it is.
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: limitMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return timedCheck(
    'redis',
    limitMs,
    async () => {
      try {
        await client.connect();
        const pong = await client.ping();
        const info = await client.info('server');
        const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
        return { ok: pong === 'PONG', detail: `${at} answers PING (Redis ${version})` };
      } finally {
        client.disconnect();
      }
    },
    (err) => {
      client.disconnect();
      return { ok: false, detail: messageOf(err), fix: reachFix(err, 'Redis', 'REDIS_URL', at) };
    },
  );
}
