import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ownsProcess, readPid, run, stopPid, waitUntil, which } from './exec';
import { probeStatus, type StackContext, type StackServer } from './server';

const NAME = 'redis';

function paths(ctx: StackContext) {
  const dir = join(ctx.settings.local, 'redis');
  return { dir, conf: join(dir, 'redis.conf'), pid: join(dir, 'redis.pid'), log: join(dir, 'redis.log') };
}

function url(ctx: StackContext): string {
  return `redis://:${ctx.secrets.redisPassword}@127.0.0.1:${ctx.settings.ports.redis}`;
}

async function healthy(ctx: StackContext): Promise<boolean> {
  const client = new Redis(url(ctx), {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } finally {
    client.disconnect();
  }
}

// redis-server rewrites its process title to "redis-server 127.0.0.1:<port>".
const marker = (ctx: StackContext) => `127.0.0.1:${ctx.settings.ports.redis}`;

export const redis: StackServer = {
  name: NAME,
  requirements: () => [{ command: 'redis-server', package: 'redis-server' }],

  async up(ctx) {
    const started = Date.now();
    const p = paths(ctx);
    const pid = readPid(p.pid);
    if (ownsProcess(pid, marker(ctx))) {
      await waitUntil(NAME, 'PING', () => healthy(ctx), 30000);
      return {
        server: NAME,
        action: 'already-running',
        pid,
        port: ctx.settings.ports.redis,
        ms: Date.now() - started,
      };
    }
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    const base = readFileSync(join(ctx.settings.infra, 'redis', 'redis.conf'), 'utf8');
    writeFileSync(
      p.conf,
      `${base}\nbind 127.0.0.1\nport ${ctx.settings.ports.redis}\ndir ${p.dir}\npidfile ${p.pid}\nlogfile ${p.log}\nrequirepass ${ctx.secrets.redisPassword}\n`,
      { mode: 0o600 },
    );
    ctx.report(NAME, `starting on 127.0.0.1:${ctx.settings.ports.redis} (AOF in ${p.dir})`);
    await run(NAME, which('redis-server') ?? 'redis-server', [p.conf]);
    await waitUntil(NAME, 'PING', () => healthy(ctx), 30000);
    const newPid = readPid(p.pid) ?? 0;
    return {
      server: NAME,
      action: 'started',
      pid: newPid,
      port: ctx.settings.ports.redis,
      ms: Date.now() - started,
    };
  },

  async down(ctx) {
    const pid = readPid(paths(ctx).pid);
    if (!ownsProcess(pid, marker(ctx))) return { server: NAME, action: 'not-running', pid: null };
    // SIGTERM: Redis flushes the AOF and exits.
    return { server: NAME, action: await stopPid(pid, 'SIGTERM', 30000), pid };
  },

  async status(ctx) {
    const pid = readPid(paths(ctx).pid);
    const running = ownsProcess(pid, marker(ctx));
    return probeStatus(
      NAME,
      ctx.settings.ports.redis,
      pid,
      running,
      () => healthy(ctx),
      () => 'PONG, appendonly yes',
    );
  },

  env: (ctx) => ({ REDIS_URL: url(ctx) }),
};
