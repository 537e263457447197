import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';

/**
 * Every `boarding` process the soak started and that has not exited yet: the only processes it
 * ever signals (by their pid), and what an interrupted run kills before it leaves.
 */
const live = new Set<ChildProcess>();
/** Set once the soak is leaving: no supervised service is restarted any more. */
let leaving = false;

/** Whether the soak is leaving (killAllChildren ran): nothing new is started. */
export function leavingSoak(): boolean {
  return leaving;
}

/** SIGKILL every `boarding` child still running (an interrupted or failed run). */
export function killAllChildren(): number {
  leaving = true;
  let n = 0;
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      n++;
    }
  }
  return n;
}

let binPath: string | undefined;

/**
 * The CLI's bin resolved to its file, run by this very node: the child's pid is the process
 * doing the work, so a SIGKILL hits it and not a shell or an `env` in between.
 */
function boardingBin(): string {
  binPath ??= realpathSync(join(findRepoRoot(), 'node_modules', '.bin', 'boarding'));
  return binPath;
}

export type BoardingExit = { code: number | null; signal: NodeJS.Signals | null };

export type BoardingChild = {
  child: ChildProcess;
  pid: number;
  log: string;
  /** Resolves once it exited and its stdout is read to the end. */
  done: Promise<BoardingExit & { stdout: string }>;
};

/** `boarding <args>` as its own process: stderr (its JSON logs, progress) to `log`, stdout kept. */
export function spawnBoarding(args: string[], env: Record<string, string>, log: string): BoardingChild {
  const fd = openSync(log, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [boardingBin(), ...args], {
      env,
      cwd: findRepoRoot(),
      stdio: ['ignore', 'pipe', fd],
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  let stdout = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  const done = new Promise<BoardingExit & { stdout: string }>((resolve) => {
    child.once('error', () => {
      live.delete(child);
      resolve({ code: -1, signal: null, stdout });
    });
    // 'close', not 'exit': stdout is complete only once the pipe is closed.
    child.once('close', (code, signal) => {
      live.delete(child);
      resolve({ code, signal, stdout });
    });
  });
  return { child, pid: child.pid ?? -1, log, done };
}

/** The last `bytes` of a log file, as lines (the reason of a failure comes last). */
export function logTail(path: string, lines = 8, bytes = 16384): string[] {
  try {
    const size = statSync(path).size;
    const length = Math.min(size, bytes);
    const buffer = Buffer.alloc(length);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer
      .toString('utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-lines);
  } catch {
    return [];
  }
}

export class BoardingCommandError extends Error {
  readonly code = 'SOAK_COMMAND_FAILED';
  readonly retryable = false;
  constructor(
    readonly args: string[],
    readonly exit: BoardingExit,
    readonly log: string,
    /** What it printed on stdout before failing (a report that ends with exit 1 still has one). */
    readonly stdout: string,
  ) {
    super(
      `boarding ${args.join(' ')} failed (${exit.signal ?? `exit ${exit.code}`}); see ${log}:\n  ${logTail(log, 6).join('\n  ')}`,
    );
    this.name = 'BoardingCommandError';
  }
}

/**
 * Run `boarding <args>` to its end and return its stdout; a non-zero exit (or the timeout, after
 * which it is killed) rejects with the tail of its log.
 */
export async function runBoarding(
  args: string[],
  env: Record<string, string>,
  log: string,
  timeoutMs = 30 * 60000,
): Promise<string> {
  const run = spawnBoarding(args, env, log);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const exit = await run.done.finally(() => clearTimeout(timer));
  if (exit.code !== 0) throw new BoardingCommandError(args, exit, log, exit.stdout);
  return exit.stdout;
}

/** The JSON object a `--json` command prints as its last line of stdout. */
export function lastJson<T = Record<string, unknown>>(stdout: string, who: string): T {
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const value: unknown = JSON.parse(last);
    if (typeof value === 'object' && value !== null) return value as T;
  } catch {
    // reported below
  }
  throw new Error(`${who} printed no JSON result: ${JSON.stringify(last.slice(0, 200))}`);
}

export type UnexpectedExit = {
  service: string;
  at: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  log: string;
  tail: string[];
};

/**
 * A long-running service (`boarding serve ingest|exporter`) as systemd would run it: restarted
 * when it exits by itself (each such exit is recorded: a service must ride out an outage, not
 * exit), killed with SIGKILL by the chaos and started again by it.
 */
export class SupervisedService {
  kills = 0;
  starts = 0;
  readonly unexpectedExits: UnexpectedExit[] = [];
  private current: BoardingChild | undefined;
  private expectingExit = false;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    private readonly progress: (message: string) => void,
    private readonly restartDelayMs = 3000,
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  get pid(): number | undefined {
    return this.current?.pid;
  }

  start(): void {
    if (this.current || this.stopping || leaving) return;
    clearTimeout(this.restartTimer);
    this.starts++;
    const log = join(this.logDir, `${this.name}-${String(this.starts).padStart(3, '0')}.log`);
    const run = spawnBoarding(this.args, this.env, log);
    this.current = run;
    this.expectingExit = false;
    void run.done.then((exit) => {
      if (this.current === run) this.current = undefined;
      if (this.expectingExit || this.stopping || leaving) return;
      const record: UnexpectedExit = {
        service: this.name,
        at: new Date().toISOString(),
        code: exit.code,
        signal: exit.signal,
        log,
        tail: logTail(log, 5),
      };
      this.unexpectedExits.push(record);
      this.progress(
        `${this.name} (pid ${run.pid}) EXITED BY ITSELF (${exit.signal ?? `exit ${exit.code}`}); restarting in ${this.restartDelayMs / 1000}s — ${log}`,
      );
      this.restartTimer = setTimeout(() => this.start(), this.restartDelayMs);
    });
  }

  /** SIGKILL, as a crash or the OOM killer would; resolves once it is gone. Not restarted. */
  async kill(): Promise<number | undefined> {
    const run = this.current;
    if (!run) return undefined;
    this.expectingExit = true;
    this.kills++;
    run.child.kill('SIGKILL');
    await run.done;
    return run.pid;
  }

  /** SIGTERM (the service's own graceful stop), SIGKILL after `graceMs`. No more restarts. */
  async stop(graceMs = 45000): Promise<'stopped' | 'killed' | 'not-running'> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const run = this.current;
    if (!run) return 'not-running';
    run.child.kill('SIGTERM');
    const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
    const exit = await run.done.finally(() => clearTimeout(timer));
    return exit.signal === 'SIGKILL' ? 'killed' : 'stopped';
  }
}

/** Error-level lines (pino level ≥ 50) a service logged, counted by message. */
export type LoggedErrors = { service: string; message: string; count: number }[];

/**
 * What the services logged at error level or above over the run (their logs in `dir`, named
 * `<service>-NNN.log`): alerts, failed jobs. Read after the run, as an operator would.
 */
export function loggedErrors(dir: string, services: readonly string[]): LoggedErrors {
  const counts = new Map<string, { service: string; message: string; count: number }>();
  for (const file of readdirSync(dir)) {
    const service = services.find((s) => file.startsWith(`${s}-`) && file.endsWith('.log'));
    if (!service) continue;
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: { level?: unknown; msg?: unknown };
      try {
        entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
      } catch {
        continue;
      }
      if (typeof entry.level !== 'number' || entry.level < 50) continue;
      const message = String(entry.msg ?? '').slice(0, 200);
      const key = `${service}\u0000${message}`;
      const c = counts.get(key) ?? { service, message, count: 0 };
      c.count++;
      counts.set(key, c);
    }
  }
  return [...counts.values()].sort((a, b) => b.count - a.count);
}
