import { posix } from 'node:path';
import { environmentWith } from '@boarding/config/env';
import { readStackEnv } from '@boarding/config/stack-env';

/**
 * The connection settings the demo's steps reach, each of which may only be the local stack's.
 * The demo drops and re-creates a database, creates and deletes topics, and delivers a synthetic
 * `BINIS_…` file by SFTP: with a production `DATABASE_URL` or `SFTP_*` in the environment (which
 * wins over `.local/stack.env`) it would do that to production and to the Ministry (issue 12,
 * item 6). `SFTP_HOST` stands for the SFTP endpoint (`SFTP_HOST` and `SFTP_PORT`).
 */
export const DEMO_TARGETS = [
  'DATABASE_URL',
  'REDIS_URL',
  'KAFKA_BROKERS',
  'SFTP_HOST',
  'SFTP_REMOTE_DIR',
] as const;
export type DemoTarget = (typeof DEMO_TARGETS)[number];

export const isDemoTarget = (name: string): name is DemoTarget =>
  (DEMO_TARGETS as readonly string[]).includes(name);

/** One setting that points away from the local stack. The message holds no credentials. */
export type DemoTargetProblem = { target: DemoTarget; variables: string[]; message: string };

type Env = Readonly<Record<string, string | undefined>>;

/** Where a setting points: the `host:port` endpoints it reaches, or why it cannot be read. */
type Reading = { endpoints: string[] } | { unreadable: string };

/**
 * Which targets of `env` (the environment the demo's steps will see: `.local/stack.env` under
 * the process environment) are not the local stack described by `stackEnv` (`.local/stack.env`).
 * The rule is strict: host and port must equal the stack's (every Kafka broker one of the
 * stack's; `SFTP_REMOTE_DIR` inside the stack's directory). Loopback on another port is another
 * server, possibly a tunnel to production, and is refused too. A target unset in `env` is not a
 * problem: the steps will take it from the stack once it is up. A target in `allowed` is not
 * checked (an explicit test host). Pure: reads nothing but its arguments.
 */
export function checkDemoTargets(
  env: Env,
  stackEnv: Env,
  allowed: Iterable<DemoTarget> = [],
): DemoTargetProblem[] {
  const allow = new Set(allowed);
  const problems: DemoTargetProblem[] = [];
  const endpoint = (target: DemoTarget, variables: string[], read: (source: Env) => Reading | null): void => {
    if (allow.has(target)) return;
    const found = read(env);
    if (found === null) return;
    const subject = variables.join('/');
    const verb = variables.length > 1 ? 'point' : 'points';
    if ('unreadable' in found) {
      problems.push({ target, variables, message: `${subject} ${found.unreadable}` });
      return;
    }
    const stack = read(stackEnv);
    if (stack === null || 'unreadable' in stack) {
      problems.push({
        target,
        variables,
        message: `${subject} ${verb} at ${found.endpoints.join(',')}, but the local stack has none (no ${variables[0]} in .local/stack.env: run \`boarding stack up\` first)`,
      });
      return;
    }
    const local = new Set(stack.endpoints);
    if (found.endpoints.length > 0 && found.endpoints.every((e) => local.has(e))) return;
    problems.push({
      target,
      variables,
      message: `${subject} ${verb} at ${found.endpoints.join(',')}, not the local stack (${stack.endpoints.join(',')})`,
    });
  };

  endpoint('DATABASE_URL', ['DATABASE_URL'], (s) => readUrl(s.DATABASE_URL, 5432));
  endpoint('REDIS_URL', ['REDIS_URL'], (s) => readUrl(s.REDIS_URL, 6379));
  endpoint('KAFKA_BROKERS', ['KAFKA_BROKERS'], (s) => readBrokers(s.KAFKA_BROKERS));
  endpoint('SFTP_HOST', ['SFTP_HOST', 'SFTP_PORT'], (s) => readSftp(s.SFTP_HOST, s.SFTP_PORT));

  // The directory only matters on the stack's own server: on an allowed test host it is that
  // host's business.
  const dir = env.SFTP_REMOTE_DIR;
  const stackDir = stackEnv.SFTP_REMOTE_DIR;
  if (!allow.has('SFTP_HOST') && !allow.has('SFTP_REMOTE_DIR') && dir !== undefined && stackDir) {
    const base = posix.normalize(stackDir).replace(/(.)\/$/, '$1');
    const path = posix.normalize(dir);
    if (path !== base && !path.startsWith(base === '/' ? '/' : `${base}/`)) {
      problems.push({
        target: 'SFTP_REMOTE_DIR',
        variables: ['SFTP_REMOTE_DIR'],
        message: `SFTP_REMOTE_DIR is ${path}, outside the local stack's ${base}`,
      });
    }
  }
  return problems;
}

/** `host:port` with the host lower-cased and any `user:password@` cut off. */
const hostPort = (host: string, port: string): string => `${withoutUserInfo(host).toLowerCase()}:${port}`;
const withoutUserInfo = (s: string): string => s.slice(s.lastIndexOf('@') + 1);

function readUrl(value: string | undefined, defaultPort: number): Reading | null {
  if (value === undefined || value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Never echo the value: a malformed URL may still hold a password.
    return { unreadable: 'is not a URL the demo can check' };
  }
  // pg (and ioredis) let `?host=`/`?port=` override the authority: the server really reached.
  const host = url.searchParams.get('host') || url.hostname;
  const port = url.searchParams.get('port') || url.port || String(defaultPort);
  if (host === '') return { unreadable: 'names no host the demo can check' };
  return { endpoints: [hostPort(host, port)] };
}

function readBrokers(value: string | undefined): Reading | null {
  if (value === undefined || value === '') return null;
  const brokers = value
    .split(',')
    .map((b) => withoutUserInfo(b.trim()))
    .filter((b) => b !== '');
  if (brokers.length === 0 || !brokers.every((b) => /^[^\s:]+:\d+$|^\[[^\]\s]+\]:\d+$/.test(b))) {
    return { unreadable: 'is not a host:port[,host:port…] list the demo can check' };
  }
  return { endpoints: brokers.map((b) => b.toLowerCase()) };
}

function readSftp(host: string | undefined, port: string | undefined): Reading | null {
  if (host === undefined || host === '') return null;
  const p = port === undefined || port === '' ? '22' : port.trim();
  if (!/^\d+$/.test(p)) return { unreadable: 'name no port the demo can check' };
  return { endpoints: [hostPort(host.trim(), String(Number(p)))] };
}

/** The demo would reach something other than the local stack; nothing has been touched yet. */
export class DemoTargetError extends Error {
  readonly code = 'DEMO_TARGET_NOT_LOCAL';
  readonly retryable = false;
  constructor(readonly problems: DemoTargetProblem[]) {
    const names = [...new Set(problems.map((p) => p.target))];
    const them = problems.length === 1 && problems[0]?.variables.length === 1 ? 'it' : 'them';
    const hint = `Unset ${them}, or pass ${names.map((n) => `--allow-target ${n}`).join(' ')} for a test host.`;
    super(
      problems.length === 1
        ? `demo refuses to run: ${problems[0]?.message}. ${hint}`
        : `demo refuses to run:\n${problems.map((p) => `  - ${p.message}`).join('\n')}\n${hint}`,
    );
    this.name = 'DemoTargetError';
  }
}

/**
 * Throws `DemoTargetError` unless every target the demo's steps would reach is the local stack
 * (`.local/stack.env`) or allowed. Called before the first step and again before the sandbox is
 * created, against the `stack.env` that `stack up` has just written.
 */
export function assertDemoTargets(
  allowed: Iterable<DemoTarget> = [],
  env: Env = environmentWith(),
  stackEnv: Env = readStackEnv(),
): void {
  const problems = checkDemoTargets(env, stackEnv, allowed);
  if (problems.length > 0) throw new DemoTargetError(problems);
}
