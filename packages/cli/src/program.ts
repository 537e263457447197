import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { environmentWith } from '@boarding/config/env';
import { Command, CommanderError } from 'commander';
import { UsageError } from './arguments';
import { registerApiKey } from './commands/apikey';
import { registerDay } from './commands/day';
import { registerDeadletters } from './commands/deadletters';
import { registerDemo } from './commands/demo';
import { registerExport } from './commands/export';
import { registerIngest } from './commands/ingest';
import { registerMigrate } from './commands/migrate';
import { registerRegistry } from './commands/registry';
import { registerReplay } from './commands/replay';
import { registerServe } from './commands/serve';
import { registerSimulate } from './commands/simulate';
import { registerStack } from './commands/stack';

export function buildProgram(): Command {
  const program = new Command('boarding')
    .description('The boarding pipeline: validator taps → registry join → daily file to the Health Ministry.')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) });
  registerStack(program);
  registerMigrate(program);
  registerRegistry(program);
  registerApiKey(program);
  registerIngest(program);
  registerServe(program);
  registerSimulate(program);
  registerDeadletters(program);
  registerExport(program);
  registerReplay(program);
  registerDay(program);
  // The demo runs the other commands, each as its own `boarding` process, as a user types them.
  registerDemo(program, runBoardingProcess);
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

/**
 * `boarding <args>` as a child process of this one (same Node, same entry), `env` added; its
 * stdout is returned when `capture`, else passed on (to stderr with `stdoutToStderr`).
 */
function runBoardingProcess(
  args: string[],
  options: { env: Record<string, string>; stdoutToStderr?: boolean; capture?: boolean },
): Promise<string> {
  const entry = join(__dirname, '..', 'bin', 'boarding.cjs');
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
