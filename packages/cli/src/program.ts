import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { environmentWith } from '@boarding/config/env';
import type { BackgroundProcess } from '@boarding/demo/demo-servers';
import { Command } from 'commander';
import cliPackage from '../package.json';
import { classifyFailure, EXIT_CODES_HELP } from './failure';
import { addExamples } from './help-examples';
import type { GlobalOptions } from './output';

type Register = (program: Command) => void;

/**
 * The top-level commands in the order `--help` lists them, each registered from its own module,
 * loaded only then (`require`, typed by `import()` type queries). A command's module brings its
 * libraries (Kafka, the services, the export's workers, BullMQ…): loading all of them cost every
 * command ~50 MiB more than `boarding ingest` itself needs (142 against 91 MiB at start), on a
 * process whose memory is budgeted (docs/ingest.md).
 */
const COMMANDS: readonly { name: string; register: Register }[] = [
  {
    name: 'stack',
    register: (p) => (require('./commands/stack') as typeof import('./commands/stack')).registerStack(p),
  },
  {
    name: 'doctor',
    register: (p) => (require('./commands/doctor') as typeof import('./commands/doctor')).registerDoctor(p),
  },
  {
    name: 'migrate',
    register: (p) =>
      (require('./commands/migrate') as typeof import('./commands/migrate')).registerMigrate(p),
  },
  {
    name: 'registry',
    register: (p) =>
      (require('./commands/registry') as typeof import('./commands/registry')).registerRegistry(p),
  },
  {
    name: 'apikey',
    register: (p) => (require('./commands/apikey') as typeof import('./commands/apikey')).registerApiKey(p),
  },
  {
    name: 'ingest',
    register: (p) => (require('./commands/ingest') as typeof import('./commands/ingest')).registerIngest(p),
  },
  {
    name: 'serve',
    register: (p) => (require('./commands/serve') as typeof import('./commands/serve')).registerServe(p),
  },
  {
    name: 'simulate',
    register: (p) =>
      (require('./commands/simulate') as typeof import('./commands/simulate')).registerSimulate(p),
  },
  {
    name: 'deadletters',
    register: (p) =>
      (require('./commands/deadletters') as typeof import('./commands/deadletters')).registerDeadletters(p),
  },
  {
    name: 'export',
    register: (p) => (require('./commands/export') as typeof import('./commands/export')).registerExport(p),
  },
  {
    name: 'replay',
    register: (p) => (require('./commands/replay') as typeof import('./commands/replay')).registerReplay(p),
  },
  {
    name: 'retention',
    register: (p) =>
      (require('./commands/retention') as typeof import('./commands/retention')).registerRetention(p),
  },
  {
    name: 'day',
    register: (p) => (require('./commands/day') as typeof import('./commands/day')).registerDay(p),
  },
  {
    name: 'days',
    register: (p) => (require('./commands/days') as typeof import('./commands/days')).registerDays(p),
  },
  {
    name: 'status',
    register: (p) => (require('./commands/status') as typeof import('./commands/status')).registerStatus(p),
  },
  // The demo runs the other commands, each as its own `boarding` process, as a user types them.
  {
    name: 'demo',
    register: (p) =>
      (require('./commands/demo') as typeof import('./commands/demo')).registerDemo(p, {
        run: runBoardingProcess,
        startBackground: startBoardingInBackground,
      }),
  },
];

/**
 * `args` (the words after `boarding`) starting with a command's name: that command alone is
 * registered, so only its modules are loaded. Anything else (`--help`, `--version`, a mistyped
 * name, no args at all) gets every command, so help lists them all and commander can suggest one.
 */
export function buildProgram(args?: readonly string[]): Command {
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
  const named = COMMANDS.find((c) => c.name === args?.[0]);
  for (const command of named ? [named] : COMMANDS) command.register(program);
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
