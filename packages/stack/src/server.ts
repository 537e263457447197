import type { Secrets } from './secrets';
import type { StackSettings } from './settings';

export type StackContext = {
  settings: StackSettings;
  secrets: Secrets;
  /** Progress of long work, one human line at a time (`initdb`, downloading jars, …). */
  report: (server: string, message: string) => void;
};

export type ServerStatus = {
  server: string;
  port: number;
  pid: number | null;
  running: boolean;
  healthy: boolean;
  detail: string;
};

export type UpOutcome = {
  server: string;
  action: 'started' | 'already-running';
  pid: number;
  port: number;
  ms: number;
};
export type DownOutcome = {
  server: string;
  action: 'stopped' | 'killed' | 'not-running';
  pid: number | null;
};

/** A debian package that provides a command the stack needs. */
export type Requirement = { command: string; package: string; extraDirs?: string[] };

/** One server of the private local stack. `up` is idempotent; `down` touches only our pid. */
export type StackServer = {
  name: string;
  requirements: (ctx: StackContext) => Requirement[];
  up: (ctx: StackContext) => Promise<UpOutcome>;
  down: (ctx: StackContext) => Promise<DownOutcome>;
  status: (ctx: StackContext) => Promise<ServerStatus>;
  /** Connection settings this server contributes to `.local/stack.env`. */
  env: (ctx: StackContext) => Record<string, string>;
};

/**
 * A server's status: running means our pid is alive; healthy means its check passed too. The
 * detail says what was checked, or why the check failed.
 */
export async function probeStatus(
  server: string,
  port: number,
  pid: number | undefined,
  running: boolean,
  check: () => Promise<boolean>,
  healthyDetail: () => string,
): Promise<ServerStatus> {
  if (!running) return { server, port, pid: null, running, healthy: false, detail: 'not running' };
  try {
    const healthy = await check();
    return { server, port, pid: pid ?? null, running, healthy, detail: healthyDetail() };
  } catch (err) {
    return { server, port, pid: pid ?? null, running, healthy: false, detail: (err as Error).message };
  }
}
