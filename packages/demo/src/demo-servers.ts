import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { localDir } from '@boarding/config/paths';
import { z } from 'zod';

/** The services the demo runs in the background (`boarding serve <service>`). */
export const DEMO_SERVICES = ['hes-stand-in', 'registry-api'] as const;
export type DemoService = (typeof DEMO_SERVICES)[number];

/**
 * A `boarding` process running in the background, detached from the demo (its own process group,
 * so the terminal's Ctrl-C after the demo does not reach it), its output appended to a log file.
 * `exit` settles with how it ended (`exit 1`, `signal SIGTERM`) if that happens while the demo
 * still runs; it never rejects.
 */
export type BackgroundProcess = { pid: number; exit: Promise<string> };

/**
 * Starts `boarding <args>` that way, with `env` added to its environment. The CLI provides it, as
 * it provides `RunCommand`: this package starts no process by itself.
 */
export type StartBackground = (
  args: string[],
  options: { env: Record<string, string>; logFile: string },
) => BackgroundProcess;

/**
 * A server the demo started and may leave running: enough to stop it later, and to be sure that the
 * process stopped is still that server and not another one that got its pid since.
 */
export const DemoServer = z.object({
  service: z.enum(DEMO_SERVICES),
  pid: z.number().int().positive(),
  /**
   * Its start time, field 22 of /proc/<pid>/stat (clock ticks since boot): a pid reused by another
   * process has another. null where there is no /proc: such a server is never signalled by pid.
   */
  startTicks: z.string().nullable(),
  url: z.string(),
  log: z.string(),
});
export type DemoServer = z.infer<typeof DemoServer>;

/** What a process looks like now: its start time and argv, from /proc. */
export type ProcessSighting = { startTicks: string | null; argv: string[] };

const SERVERS_FILE = 'servers.json';
// The services stop on SIGTERM within their shutdown deadline; a server still there after this is
// hung, and is killed.
const STOP_GRACE_MS = 15_000;

/** `.local/demo/servers.json`: the servers the last demo left running. */
export const demoServersFile = (): string => join(localDir(), 'demo', SERVERS_FILE);

/**
 * Field 22 (starttime) of a /proc/<pid>/stat line, or null when it is not one. The command name
 * (field 2, in parentheses) may itself hold spaces and parentheses: fields are counted after the
 * last `)`. A zombie (state Z) has ended already: null as well.
 */
export function startTicksOf(stat: string): string | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state), so field 22 is fields[19].
  if (fields[0] === 'Z') return null;
  const ticks = fields[19];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : null;
}

/**
 * Whether the process seen now under a recorded server's pid is that server: same start time and
 * still `boarding serve <service>`. Pids are reused, so anything less could signal a stranger.
 */
export function isSameServer(recorded: DemoServer, seen: ProcessSighting | null): boolean {
  if (seen === null || recorded.startTicks === null || seen.startTicks !== recorded.startTicks) return false;
  const serve = seen.argv.indexOf('serve');
  return serve >= 0 && seen.argv[serve + 1] === recorded.service;
}

/** The process under `pid` now, from /proc; null when there is none (or no /proc, or a zombie). */
export function sightProcess(pid: number): ProcessSighting | null {
  try {
    const startTicks = startTicksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    if (startTicks === null) return null;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    return { startTicks, argv };
  } catch {
    return null;
  }
}

/** The start time of a process just started, for its record (null without /proc). */
export const startTicksNow = (pid: number): string | null => sightProcess(pid)?.startTicks ?? null;

export function readDemoServers(file: string = demoServersFile()): DemoServer[] {
  if (!existsSync(file)) return [];
  try {
    return z.array(DemoServer).parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    // A file we cannot read names no process we may signal: forget it.
    return [];
  }
}

export function recordDemoServers(servers: readonly DemoServer[], file: string = demoServersFile()): void {
  if (servers.length === 0) rmSync(file, { force: true });
  else writeFileSync(file, `${JSON.stringify(servers, null, 2)}\n`, { mode: 0o600 });
}

/** What became of the servers an earlier demo left running. */
export type StoppedServers = {
  stopped: DemoServer[];
  /** Ended already, or their pid is now another process's: left alone. */
  gone: DemoServer[];
  /** Still running for all we know, but not verifiable here (no /proc): stop them by hand. */
  unverified: DemoServer[];
};

/**
 * Stops the servers recorded in `.local/demo/servers.json` (an earlier `boarding demo`), each only
 * if it is still that process (`isSameServer`): SIGTERM, then SIGKILL if it hangs. Forgets the
 * record, except for servers it could not verify.
 */
export async function stopDemoServers(file: string = demoServersFile()): Promise<StoppedServers> {
  const result: StoppedServers = { stopped: [], gone: [], unverified: [] };
  for (const server of readDemoServers(file)) {
    if (server.startTicks === null) {
      result.unverified.push(server);
      continue;
    }
    if (!isSameServer(server, sightProcess(server.pid))) {
      result.gone.push(server);
      continue;
    }
    await terminate(server.pid, async () => !isSameServer(server, sightProcess(server.pid)));
    result.stopped.push(server);
  }
  recordDemoServers(result.unverified, file);
  return result;
}

/** Stops a server this demo run started itself (its child: the pid is certainly still it). */
export async function stopOwnServer(child: BackgroundProcess): Promise<void> {
  let ended = false;
  void child.exit.then(() => {
    ended = true;
  });
  // Its 'exit', not /proc: this process reaps its own child, and it works without /proc too.
  await terminate(child.pid, async () => ended);
}

async function terminate(pid: number, ended: () => Promise<boolean>): Promise<void> {
  if (!signal(pid, 'SIGTERM')) return;
  const deadline = Date.now() + STOP_GRACE_MS;
  while (Date.now() < deadline) {
    if (await ended()) return;
    await sleep(100);
  }
  signal(pid, 'SIGKILL');
}

/** false when there is no such process (any more). */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === 'ESRCH') return false;
    throw err;
  }
}

/**
 * `preferred` when nothing listens there on `host`, else a port the system picks: the demo's
 * servers take the usual ports (7081, 9103) unless a developer's own servers hold them.
 */
export async function choosePort(preferred: number, host = '127.0.0.1'): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | null>((resolve, reject) => {
      const server = createServer();
      server.once('error', (err: NodeJS.ErrnoException) =>
        err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(null) : reject(err),
      );
      server.listen({ host, port, exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : null;
        server.close(() => resolve(chosen));
      });
    });
  const port = (await tryListen(preferred)) ?? (await tryListen(0));
  if (port === null) throw new Error(`no free port on ${host}`);
  return port;
}

/** A server that did not become ready: it ended, or did not answer in time. */
export class DemoServerError extends Error {
  readonly code = 'DEMO_SERVER_NOT_READY';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'DemoServerError';
  }
}

/**
 * Waits until `url` answers 200 (a server's /readyz or /healthz), failing as soon as the process
 * ends, or after `timeoutMs`. The message points at the log, never at what the server printed.
 */
export async function waitUntilReady(
  what: string,
  url: string,
  child: BackgroundProcess,
  log: string,
  timeoutMs = 60_000,
): Promise<void> {
  let ended: string | null = null;
  void child.exit.then((how) => {
    ended = how;
  });
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (ended !== null) throw new DemoServerError(`${what} ended (${ended}) before it was ready: see ${log}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    }
    await sleep(200);
  }
  throw new DemoServerError(`${what} was not ready within ${timeoutMs / 1000}s (${last}): see ${log}`);
}
