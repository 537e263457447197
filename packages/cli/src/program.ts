import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { environmentWith } from '@boarding/config/env';
import type { BackgroundProcess } from '@boarding/demo/demo-servers';
import { Command } from 'commander';
import cliPackage from '../package.json';
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
import { classifyFailure, EXIT_CODES_HELP } from './failure';
import { addExamples } from './help-examples';
import type { GlobalOptions } from './output';

export function buildProgram(): Command {
  const program = new Command('boarding')
    .description('The boarding pipeline: validator taps → registry join → daily file to the Health Ministry.')
    .version(`boarding ${cliPackage.version}`, '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    // Before any command is added, so every subcommand inherits it: commander's own errors (an
    // unknown option, a missing argument) reach reportFailure instead of exiting on their own.
    .exitOverride()
    .addHelpText(
      'after',
      `\nExample:\n  npx boarding demo\n\n${EXIT_CODES_HELP}\nWith --json, a failure prints one line on stdout: {"error":{"code":"…","message":"…"}}.`,
    );
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
  addExamples(program);
  return program;
}

/**
 * One place maps failures to what a user sees and to the exit status (failure.ts has the table).
 * Human: one line on stderr, `boarding: message [CODE]` (the stack only with LOG_LEVEL=debug).
 * `--json`: exactly one line on stdout, `{"error":{"code":"…","message":"…"}}`, so a machine
 * reading stdout always gets JSON.
 */
export function reportFailure(err: unknown, options: GlobalOptions = {}): number {
  const failure = classifyFailure(err);
  const commander = (err as { code?: unknown }).code;
  // commander has printed its own message (and the help), and --help / --version end here too.
  const printedByCommander = typeof commander === 'string' && commander.startsWith('commander.');
  if (failure.exitCode === 0) return 0;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`);
  } else if (!printedByCommander) {
    const code = failure.code === 'FAILED' || failure.code === 'USAGE' ? '' : ` [${failure.code}]`;
    process.stderr.write(`boarding: ${failure.message}${code}\n`);
  }
  const level = process.env.LOG_LEVEL;
  if ((level === 'debug' || level === 'trace') && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
  return failure.exitCode;
}

/**
 * Whether the command line asks for JSON. Read from the words typed, not the parsed options: a
 * failure of commander's own parsing comes before any option is parsed.
 */
export function jsonRequested(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
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
        reject(
          Object.assign(new Error(`\`boarding ${args.join(' ')}\` failed (exit ${code ?? signal})${said}`), {
            childExitCode: code,
          }),
        );
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
