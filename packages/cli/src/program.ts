import { Command, CommanderError } from 'commander';
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
  registerIngest(program);
  registerServe(program);
  registerSimulate(program);
  registerDeadletters(program);
  registerExport(program);
  registerReplay(program);
  registerDay(program);
  // The demo runs the other commands, each on a fresh program as a user would type them.
  registerDemo(program, async (args) => {
    await buildProgram().exitOverride().parseAsync(args, { from: 'user' });
  });
  return program;
}

/**
 * One place maps failures to what a user sees: a one-line message (with the error's code when
 * it has one) on stderr, and the exit status. Stack traces only with DEBUG set.
 */
export function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  const e = err as { code?: unknown; message?: string; stack?: string };
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  process.stderr.write(`boarding: ${e.message ?? String(err)}${code}\n`);
  if (process.env.DEBUG) process.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}
