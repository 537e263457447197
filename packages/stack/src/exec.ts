import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { StackError } from './errors';

export type RunResult = { code: number; stdout: string; stderr: string };

/** Run a command to completion, capturing output; a non-zero exit is a StackError with its tail. */
export async function run(
  server: string,
  cmd: string,
  args: string[],
  options: { user?: string; env?: NodeJS.ProcessEnv; cwd?: string; allowFail?: boolean } = {},
): Promise<RunResult> {
  // runuser drops root to the unprivileged account a daemon must run as (PostgreSQL refuses root).
  const [file, argv] = options.user ? ['runuser', ['-u', options.user, '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (err) => reject(new StackError(server, `cannot run ${cmd}: ${err.message}`)));
    child.on('close', (code) => {
      const result = { code: code ?? -1, stdout, stderr };
      if (result.code !== 0 && !options.allowFail) {
        const tail = (stderr || stdout).trim().split('\n').slice(-8).join('\n');
        reject(new StackError(server, `${cmd} ${args.join(' ')} exited with ${result.code}\n${tail}`));
      } else resolve(result);
    });
  });
}

/** Absolute path of an executable on PATH (or one of `extraDirs`), or undefined. */
export function which(cmd: string, extraDirs: string[] = []): string | undefined {
  if (cmd.includes('/')) return isExecutable(cmd) ? cmd : undefined;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, cmd);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(path: string): number | undefined {
  if (!existsSync(path)) return undefined;
  const pid = Number.parseInt(readFileSync(path, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * True when `pid` is alive and its command line mentions `marker` (our config or data path),
 * so a pid file left over after a reboot never makes us signal somebody else's process.
 */
export function ownsProcess(pid: number | undefined, marker: string): pid is number {
  if (pid === undefined || !pidAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').includes(marker);
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns true or the deadline passes; the last error explains why. */
export async function waitUntil(
  server: string,
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(250);
  }
  throw new StackError(
    server,
    `timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${last}` : ''}`,
  );
}

/** Send `signal` to our process and wait for it to exit; SIGKILL after the grace period. */
export async function stopPid(
  pid: number,
  signal: NodeJS.Signals,
  graceMs: number,
): Promise<'stopped' | 'killed'> {
  process.kill(pid, signal);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return 'stopped';
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
  while (pidAlive(pid)) await sleep(100);
  return 'killed';
}

/** Resolves with the first bytes a TCP server sends (SSH banners), or rejects. */
export function readBanner(port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no banner on port ${port}`));
    }, timeoutMs);
    socket.once('data', (d) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(String(d));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export function portOpen(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
