import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { BENCHES, selectBenches } from './benches';
import { Cleanups } from './cleanups';
import { runBenches } from './harness';
import { createMachineLimits } from './machine-limits';
import { formatJsonLine, machineHeader, renderTable, sampleIdle } from './output';

// How long an interrupted run may spend removing what it created before it exits anyway.
const CLEANUP_DEADLINE_MS = 15_000;

export class BenchFailedError extends Error {
  readonly code = 'BENCH_FAILED';
  readonly retryable = false;
  constructor(
    readonly bench: string,
    override readonly cause: unknown,
  ) {
    super(`bench ${bench} failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BenchFailedError';
  }
}

export function parseTaps(raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** Progress goes to stderr, so stdout stays a clean result (a table, or JSON lines). */
function progressLine(bench: string, message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`${time} ${bench.padEnd(8)} ${message}\n`);
}

/**
 * On SIGINT/SIGTERM, remove what the run created (topics, groups, temp files) and exit 130; a
 * second signal exits at once. Returns the function that uninstalls the handlers.
 */
function removeOnInterrupt(cleanups: Cleanups): () => void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`\n${signal}: removing what this run created (again to quit at once)…\n`);
    void cleanups.runAll(CLEANUP_DEADLINE_MS).then((left) => {
      if (left.length > 0) process.stderr.write(`not cleaned up: ${left.join('; ')}\n`);
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

type CliOptions = { json?: boolean; taps?: number };

export function buildProgram(): Command {
  return new Command('boarding-bench')
    .description(
      'Measure the pipeline and the machine it runs on; figures with a same-run bound get a ratio.',
    )
    .argument(
      '[names...]',
      `benches to run, in order (default: all): ${BENCHES.map((b) => b.name).join(', ')}`,
    )
    .option('--json', 'one JSON object per figure per line on stdout (SPEC §6)')
    .option(
      '--taps <n>',
      'size of the work, for a quick run: e.g. 20000 (default: each bench its own)',
      parseTaps,
    )
    .addHelpText(
      'after',
      `\nbenches:\n${BENCHES.map((b) => `  ${b.name.padEnd(10)} ${b.description}`).join('\n')}`,
    )
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    .action(async (names: string[], options: CliOptions) => {
      const benches = selectBenches(names);
      (options.json ? process.stderr : process.stdout).write(`${machineHeader(await sampleIdle())}\n`);
      const cleanups = new Cleanups();
      const uninstall = removeOnInterrupt(cleanups);
      try {
        const result = await runBenches(benches, {
          options: { taps: options.taps },
          limits: createMachineLimits({ cleanups, progress: (m) => progressLine('limits', m) }),
          cleanups,
          progress: progressLine,
        });
        // Figures measured before a failure are still printed: they are real.
        if (options.json) {
          for (const f of result.figures) process.stdout.write(`${formatJsonLine(f)}\n`);
        } else if (result.figures.length > 0) {
          process.stdout.write(`${renderTable(result.figures)}\n`);
        }
        if (result.failure) throw new BenchFailedError(result.failure.bench, result.failure.error);
      } finally {
        uninstall();
      }
    });
}

/**
 * One place maps failures to what a user sees: a one-line message (with the error's code when
 * it has one) on stderr, and the exit status. Stack traces only with DEBUG set.
 */
export function reportFailure(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  const e = err as { code?: unknown; message?: string; stack?: string; cause?: unknown };
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  process.stderr.write(`boarding-bench: ${e.message ?? String(err)}${code}\n`);
  if (process.env.DEBUG) {
    const cause = e.cause as { stack?: string } | undefined;
    process.stderr.write(`${cause?.stack ?? e.stack ?? ''}\n`);
  }
  return 1;
}
