import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { findRepoRoot } from '@boarding/config/paths';

export type BoardingExit = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
};
export type BoardingRun = { child: ChildProcess; exited: () => boolean; done: Promise<BoardingExit> };

/** Every `boarding` child started here and still running, for a test's afterAll to kill. */
export const runningBoardings = new Set<ChildProcess>();

/**
 * Start `boarding <args>` as its own process, as an operator (or systemd) would, collecting
 * stdout whole and the tail of stderr (a long run prints a progress line a second; a failure's
 * reason comes last).
 */
export function spawnBoarding(args: string[], env: NodeJS.ProcessEnv): BoardingRun {
  const child = spawn(join(findRepoRoot(), 'node_modules', '.bin', 'boarding'), args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningBoardings.add(child);
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout?.on('data', (b: Buffer) => {
    stdout += b.toString('utf8');
  });
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString('utf8')).slice(-8000);
  });
  // 'close', not 'exit': stdout is complete only once the pipes are closed.
  const done = new Promise<BoardingExit>((resolve) => {
    child.once('close', (code, signal) => {
      exited = true;
      runningBoardings.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited: () => exited, done };
}

/** SIGKILL every `boarding` child a test left running. */
export function killRunningBoardings(): void {
  for (const child of runningBoardings) if (child.exitCode === null) child.kill('SIGKILL');
}
