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
