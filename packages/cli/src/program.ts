import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { environmentWith } from '@boarding/config/env';
import type { BackgroundProcess } from '@boarding/demo/demo-servers';
import { Command, CommanderError } from 'commander';
import { UsageError } from './arguments';
import { registerApiKey } from './commands/apikey';
import { registerDay } from './commands/day';
import { registerDays } from './commands/days';
import { registerDeadletters } from './commands/deadletters';
import { registerDemo } from './commands/demo';
import { registerDoctor } from './commands/doctor';
import { registerExport } from './commands/export';
import { registerIngest } from './commands/ingest';
import { registerMigrate } from './commands/migrate';
import { registerRegistry } from './commands/registry';
import { registerReplay } from './commands/replay';
import { registerRetention } from './commands/retention';
import { registerServe } from './commands/serve';
import { registerSimulate } from './commands/simulate';
import { registerStack } from './commands/stack';
import { registerStatus } from './commands/status';

export function buildProgram(): Command {
  const program = new Command('boarding')
    .description('The boarding pipeline: validator taps → registry join → daily file to the Health Ministry.')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  registerStack(program);
  registerDoctor(program);
  registerMigrate(program);
  registerRegistry(program);
  registerApiKey(program);
  registerIngest(program);
  registerServe(program);
  registerSimulate(program);
  registerDeadletters(program);
  registerExport(program);
  registerReplay(program);
  registerRetention(program);
  registerDay(program);
  registerDays(program);
  registerStatus(program);
  // The demo runs the other commands, each as its own `boarding` process, as a user types them.
  registerDemo(program, { run: runBoardingProcess, startBackground: startBoardingInBackground });
  return program;
}

/**
 * One place maps failures to what a user sees: a one-line message (with the error's code when
 * it has one) on stderr, and the exit status. Stack traces only with DEBUG set.
 */
export function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  // A malformed argument: its message, exit 2 (a usage error, not a failed run).
  if (err instanceof UsageError) {
    process.stderr.write(`boarding: ${err.message}\n`);
    return 2;
  }
  const e = err as { code?: unknown; message?: string; stack?: string };
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  process.stderr.write(`boarding: ${e.message ?? String(err)}${code}\n`);
  if (process.env.DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}

const boardingEntry = () => join(__dirname, '..', 'bin', 'boarding.cjs');

/**
 * `boarding <args>` as a child process of this one (same Node, same entry), `env` added; its
 * stdout is returned when `capture`, else passed on (to stderr with `stdoutToStderr`).
 */
function runBoardingProcess(
  args: string[],
  options: { env: Record<string, string>; stdoutToStderr?: boolean; capture?: boolean },
): Promise<string> {
  const entry = boardingEntry();
  const stdout = options.capture ? 'pipe' : options.stdoutToStderr ? process.stderr : process.stdout;
  const child = spawn(process.execPath, [entry, ...args], {
    env: environmentWith(options.env),
    stdio: ['ignore', stdout, process.stderr],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else {
        const said = options.capture && out.trim() !== '' ? `: ${out.trim().slice(0, 500)}` : '';
        reject(new Error(`\`boarding ${args.join(' ')}\` failed (exit ${code ?? signal})${said}`));
      }
    });
  });
}

/**
 * `boarding <args>` in the background (the demo's servers): detached into its own process group
 * so that it outlives this process and a Ctrl-C in the terminal, stdout and stderr to `logFile`
 * (created owner-only, truncated), no pipe back to this process (a pipe would keep a caller that
 * waits for the demo's output, such as a test, waiting for the server too).
 */
function startBoardingInBackground(
  args: string[],
  options: { env: Record<string, string>; logFile: string },
): BackgroundProcess {
  const log = openSync(options.logFile, 'w', 0o600);
  try {
    const child = spawn(process.execPath, [boardingEntry(), ...args], {
      env: environmentWith(options.env),
      stdio: ['ignore', log, log],
      detached: true,
    });
    const exit = new Promise<string>((resolve) => {
      child.once('error', (err) => resolve(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit ${code}`));
    });
    if (child.pid === undefined) throw new Error(`\`boarding ${args.join(' ')}\` could not be started`);
    child.unref();
    return { pid: child.pid, exit };
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(log);
  }
}
