import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeStackEnv } from '@boarding/config/stack-env';
import { defaultKeyFilePath, generateKeyFile } from '@boarding/encryption/key-file';
import { kafka } from './kafka';
import { ensurePackages } from './packages';
import { postgres } from './postgres';
import { redis } from './redis';
import { loadOrCreateSecrets } from './secrets';
import type { DownOutcome, ServerStatus, StackContext, StackServer, UpOutcome } from './server';
import { type StackSettings, stackSettings } from './settings';
import { sftp } from './sftp';

export type { DownOutcome, ServerStatus, UpOutcome };

export const SERVERS: StackServer[] = [postgres, redis, kafka, sftp];

export type Reporter = (server: string, message: string) => void;

function context(report: Reporter, settings: StackSettings = stackSettings()): StackContext {
  // .local stays traversable (0755) for the unprivileged PostgreSQL and SFTP accounts; what is
  // secret inside it is 0600/0700 on its own.
  mkdirSync(settings.local, { recursive: true, mode: 0o755 });
  chmodSync(settings.local, 0o755);
  if (settings.isRoot) {
    mkdirSync(settings.systemDir, { recursive: true, mode: 0o755 });
    chmodSync(settings.systemDir, 0o755);
  }
  return { settings, secrets: loadOrCreateSecrets(settings.local), report };
}

export type UpResult = {
  servers: UpOutcome[];
  installed: string[];
  envFile: string;
  changed: boolean;
  ms: number;
};

/**
 * Provision and start every server that is not running, wait until each answers, then write
 * `.local/stack.env`. Idempotent: running servers are only health-checked.
 */
export async function stackUp(report: Reporter = () => undefined): Promise<UpResult> {
  const started = Date.now();
  const ctx = context(report);
  const installed = await ensurePackages(
    SERVERS.flatMap((s) => s.requirements(ctx)),
    ctx.settings.isRoot,
    (m) => report('packages', m),
  );
  // Independent servers start side by side: the JVM's start-up hides behind initdb.
  const servers = await Promise.all(SERVERS.map((s) => s.up(ctx)));
  const keyCreated = ensureDevKeyFile(ctx);
  const envFile = writeEnvFile(ctx);
  return {
    servers,
    installed,
    envFile,
    changed: keyCreated || installed.length > 0 || servers.some((s) => s.action === 'started'),
    ms: Date.now() - started,
  };
}

/**
 * The development keyring for TC/HES encryption (`.local/keys/pii.json`, 0600), made once.
 * Production keys come from the environment or a key file outside the repository.
 */
function ensureDevKeyFile(ctx: StackContext): boolean {
  const path = defaultKeyFilePath(ctx.settings.root);
  if (existsSync(path)) return false;
  const { keyId } = generateKeyFile(path);
  ctx.report('keys', `generated development PII keyring ${path} (active key ${keyId})`);
  return true;
}

/**
 * `.local/stack.env`: the stack's own settings only (its ports, its topic, the credentials and keys
 * it generated). A one-off KAFKA_TAPS_TOPIC in the caller's shell served this run and is said, never
 * written: the file is what every later command reads.
 */
export function writeEnvFile(ctx: StackContext): string {
  const values: Record<string, string> = { PII_KEY_FILE: defaultKeyFilePath(ctx.settings.root) };
  for (const s of SERVERS) Object.assign(values, s.env(ctx));
  const path = join(ctx.settings.local, 'stack.env');
  writeStackEnv(values, path);
  if (ctx.settings.shellTapsTopic !== null) {
    ctx.report(
      'settings',
      `KAFKA_TAPS_TOPIC=${ctx.settings.shellTapsTopic} from your shell was used for this run only; ` +
        `${path} keeps the stack's topic ${ctx.settings.tapsTopic}`,
    );
  }
  return path;
}

export async function stackDown(report: Reporter = () => undefined): Promise<DownOutcome[]> {
  const ctx = context(report);
  // Reverse order of dependence is irrelevant between these four; stop them together.
  return Promise.all(SERVERS.map((s) => s.down(ctx)));
}

export async function stackStatus(): Promise<ServerStatus[]> {
  const ctx = context(() => undefined);
  return Promise.all(SERVERS.map((s) => s.status(ctx)));
}

/** Stop one server of the stack (tests of outages: PostgreSQL restart, SFTP down). */
export async function stopServer(name: string): Promise<DownOutcome> {
  const server = SERVERS.find((s) => s.name === name);
  if (!server) throw new Error(`unknown server ${name}`);
  return server.down(context(() => undefined));
}

/** Start one server of the stack again and wait until it answers. */
export async function startServer(name: string): Promise<UpOutcome> {
  const server = SERVERS.find((s) => s.name === name);
  if (!server) throw new Error(`unknown server ${name}`);
  return server.up(context(() => undefined));
}

/**
 * Kill one server of the stack with SIGKILL, as a crash would (tests of outages: the Kafka
 * broker killed mid-run). Only our own process, found through the server's pid file.
 */
export async function killServer(name: string): Promise<{ pid: number | null }> {
  const server = SERVERS.find((s) => s.name === name);
  if (!server) throw new Error(`unknown server ${name}`);
  const { pid } = await server.status(context(() => undefined));
  if (pid === null || pid === undefined) return { pid: null };
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return { pid };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} (pid ${pid}) did not die after SIGKILL`);
}
