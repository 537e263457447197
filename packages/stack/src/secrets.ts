import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** Generated once per checkout, kept in `.local/secrets.json` (0600), never committed. */
const Secrets = z.object({
  pgPassword: z.string().min(16),
  redisPassword: z.string().min(16),
  kafkaClusterId: z.string().length(22),
});
export type Secrets = z.infer<typeof Secrets>;

const token = () => randomBytes(24).toString('base64url');

export function loadOrCreateSecrets(local: string): Secrets {
  const path = join(local, 'secrets.json');
  if (existsSync(path)) return Secrets.parse(JSON.parse(readFileSync(path, 'utf8')));
  // A KRaft cluster id is 16 random bytes in URL-safe base64 without padding: 22 characters.
  const secrets: Secrets = {
    pgPassword: token(),
    redisPassword: token(),
    kafkaClusterId: randomBytes(16).toString('base64url'),
  };
  mkdirSync(local, { recursive: true });
  writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
