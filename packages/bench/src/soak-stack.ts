import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';
import { readStackEnv } from '@boarding/config/stack-env';
import {
  type DownOutcome,
  killServer,
  type ServerStatus,
  stackDown,
  stackStatus,
  stackUp,
  startServer,
  stopServer,
  type UpResult,
} from '@boarding/stack/stack';
import type { ChaosServer, SoakPorts } from './soak-settings';

/**
 * Variables the product reads (settings of the stack, the services and the commands). The soak
 * removes them from its own environment and its children's before setting its own: a shell
 * that exported the main stack's DATABASE_URL must not point a chaos run at it.
 */
const PRODUCT_VARIABLE =
  /^(DATABASE_URL|REDIS_URL|KAFKA_|SFTP_|PII_|INGEST_|EXPORT_|EXPORTER_|DELIVERY_|LATE_WINDOW_DAYS$|MAX_TAP_AGE_DAYS$|REGISTRY_|HES_|RETENTION_|DEAD_LETTER_|BOARDING_(?!ROOT$))/;

export function withoutProductVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !PRODUCT_VARIABLE.test(k)) out[k] = v;
  return out;
}

/** The variables that make `@boarding/stack` (and every `boarding` command) use the soak stack. */
export function soakStackVariables(dir: string, ports: SoakPorts): Record<string, string> {
  return {
    BOARDING_LOCAL_DIR: dir,
    BOARDING_PG_PORT: String(ports.pg),
    BOARDING_REDIS_PORT: String(ports.redis),
    BOARDING_KAFKA_PORT: String(ports.kafka),
    BOARDING_KAFKA_CONTROLLER_PORT: String(ports.kafkaController),
    BOARDING_SFTP_PORT: String(ports.sftp),
  };
}

/** The soak stack directory this process was pointed at (enterSoakStack). */
let entered: string | undefined;

/**
 * Point this process at the soak stack. `@boarding/stack` reads its directory and ports from
 * process.env at every call, so from here on `stopServer('postgres')` can only reach the soak's
 * PostgreSQL (and its pid guard checks the data directory besides).
 */
export function enterSoakStack(dir: string, ports: SoakPorts): void {
  for (const key of Object.keys(process.env)) if (PRODUCT_VARIABLE.test(key)) delete process.env[key];
  Object.assign(process.env, soakStackVariables(dir, ports));
  entered = dir;
}

/**
 * Every call below stops, starts or kills servers: refused unless this process was pointed at
 * the soak stack first, so no path (an early failure, a cleanup) can reach the main stack.
 */
function assertInSoakStack(): void {
  if (entered === undefined || process.env.BOARDING_LOCAL_DIR !== entered) {
    throw new Error('not pointed at the soak stack (enterSoakStack): refusing to touch any server');
  }
}

/** Whether this process was pointed at the soak stack (a cleanup has something to take down). */
export function inSoakStack(): boolean {
  return entered !== undefined && process.env.BOARDING_LOCAL_DIR === entered;
}

/**
 * The Kafka broker jars, hard-linked (or copied) from the main stack when it has the pinned
 * version: the soak stack then starts without Maven Central. Returns whether it did.
 */
export function seedKafkaJars(soakDir: string, mainDir: string): boolean {
  const version = readFileSync(join(findRepoRoot(), 'infra', 'kafka', 'VERSION'), 'utf8').trim();
  const from = join(mainDir, 'kafka', 'libs');
  const to = join(soakDir, 'kafka', 'libs');
  const marker = (dir: string) =>
    existsSync(join(dir, '.version')) ? readFileSync(join(dir, '.version'), 'utf8').trim() : '';
  if (marker(to) === version || marker(from) !== version) return false;
  mkdirSync(to, { recursive: true });
  // The marker last: a half-seeded directory is fetched again rather than trusted.
  const files = readdirSync(from).filter((f) => f !== '.version');
  for (const file of [...files, '.version']) {
    const target = join(to, file);
    if (existsSync(target)) continue;
    try {
      linkSync(join(from, file), target);
    } catch {
      copyFileSync(join(from, file), target);
    }
  }
  return true;
}

export type Reporter = (server: string, message: string) => void;

export async function soakStackUp(report: Reporter): Promise<UpResult> {
  assertInSoakStack();
  return stackUp(report);
}

export async function soakStackDown(report: Reporter): Promise<DownOutcome[]> {
  assertInSoakStack();
  return stackDown(report);
}

export async function soakStackStatus(): Promise<ServerStatus[]> {
  assertInSoakStack();
  return stackStatus();
}

/** The settings the soak stack wrote (`<dir>/stack.env`). */
export function soakStackEnv(dir: string): Record<string, string> {
  return readStackEnv(join(dir, 'stack.env'));
}

export type RestartReport = {
  server: ChaosServer;
  /** SIGKILL (a crash) rather than the server's own clean shutdown. */
  crashed: boolean;
  stopped: DownOutcome['action'] | 'crashed';
  downMs: number;
  startMs: number;
  /** Tries `startServer` took (a start can fail while the port is being released). */
  startTries: number;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stop one server of the soak stack (cleanly, or SIGKILL when `crash`), keep it down for
 * `downMs`, start it again and wait until it answers. Nothing but the soak stack's own pids can
 * be signalled (the stack's pid-file + command-line guard).
 */
export async function restartServer(
  server: ChaosServer,
  options: { crash: boolean; downMs: number; wait?: (ms: number) => Promise<void> },
): Promise<RestartReport> {
  assertInSoakStack();
  const wait = options.wait ?? sleep;
  let stopped: RestartReport['stopped'];
  if (options.crash) {
    await killServer(server);
    stopped = 'crashed';
  } else {
    stopped = (await stopServer(server)).action;
  }
  await wait(options.downMs);
  const started = Date.now();
  let tries = 0;
  for (;;) {
    tries++;
    try {
      await startServer(server);
      break;
    } catch (err) {
      if (tries >= 4) throw err;
      await sleep(3000);
    }
  }
  return {
    server,
    crashed: options.crash,
    stopped,
    downMs: options.downMs,
    startMs: Date.now() - started,
    startTries: tries,
  };
}

/** Start every server of the soak stack that is not running (after an interrupted restart). */
export async function ensureServersRunning(): Promise<string[]> {
  assertInSoakStack();
  const started: string[] = [];
  for (const s of await stackStatus()) {
    if (s.running) continue;
    await startServer(s.server);
    started.push(s.server);
  }
  return started;
}
