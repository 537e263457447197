import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { killAllChildren } from './soak-process';
import { renderSoak } from './soak-report';
import { runSoak } from './soak-run';
import {
  CHAOS_SERVERS,
  type ChaosServer,
  defaultSoakDay,
  defaultSoakDir,
  parseCount,
  parseDayArgument,
  parsePositive,
  parseSeed,
  parseServers,
  type SoakOptions,
  soakPorts,
} from './soak-settings';
import { ensureServersRunning, inSoakStack, soakStackDown } from './soak-stack';

/** Progress goes to stderr, so stdout stays the result (the table, or one JSON object). */
function progressLine(message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`${time} soak     ${message}\n`);
}

type CliOptions = {
  minutes: number;
  taps: number;
  seed: number;
  day?: string;
  json?: boolean;
  keepStack?: boolean;
  dir?: string;
  servers: ChaosServer[];
  chaosSeed?: number;
  settleMinutes: number;
};

// What an interrupted or finished run may spend taking its stack down before it exits anyway.
const STACK_DOWN_DEADLINE_MS = 90_000;

export function buildSoakProgram(): Command {
  return new Command('boarding-soak')
    .description(
      'Issue 12 soak: ingest + exporter on a simulated faulty day while Kafka, PostgreSQL and Redis are restarted and the services killed at random, on a private stack; the delivered file must equal an undisturbed run of the same day and seed, no version reused.',
    )
    .option('--minutes <n>', 'minutes of chaos', parsePositive, 5)
    .option('--taps <n>', 'taps of the simulated day', parseCount, 100_000)
    .option('--seed <s>', 'simulator seed', parseSeed, 1)
    .option(
      '--day <YYYY-MM-DD>',
      'service day (default: yesterday in Istanbul, the exporter’s nightly day)',
      parseDayArgument,
    )
    .option('--servers <list>', `servers the chaos restarts (${CHAOS_SERVERS.join(',')})`, parseServers, [
      'kafka',
      'postgres',
      'redis',
    ])
    .option('--chaos-seed <s>', 'seed of the fault schedule (default: random, printed)', parseSeed)
    .option(
      '--settle-minutes <n>',
      'longest wait for catch-up and the exporter after the chaos',
      parsePositive,
      8,
    )
    .option('--dir <path>', 'the soak stack directory (default .local/soak)')
    .option('--keep-stack', 'leave the soak stack running at the end')
    .option('--json', 'print the result as one JSON object on stdout')
    .showHelpAfterError('(add --help for usage)')
    .action(async (cli: CliOptions) => {
      const options: SoakOptions = {
        minutes: cli.minutes,
        taps: cli.taps,
        seed: cli.seed,
        day: cli.day ?? defaultSoakDay(),
        json: cli.json ?? false,
        keepStack: cli.keepStack ?? false,
        dir: resolve(cli.dir ?? defaultSoakDir()),
        ports: soakPorts(),
        servers: cli.servers,
        chaosSeed: cli.chaosSeed ?? randomInt(0, 2 ** 31),
        settleMinutes: cli.settleMinutes,
      };
      const interrupted = new AbortController();
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          killAllChildren();
          process.exit(130);
        }
        process.stderr.write(
          `\n${signal}: stopping the chaos, killing what the soak started, taking its stack down (again to quit at once)…\n`,
        );
        killAllChildren();
        interrupted.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const report = await runSoak(options, { progress: progressLine, signal: interrupted.signal });
        process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${renderSoak(report)}\n`);
        if (!report.ok) process.exitCode = 1;
      } finally {
        killAllChildren();
        // Only once this process points at the soak stack: never a `stack down` of the main one.
        if (inSoakStack()) await leaveStack(options.keepStack);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        if (interrupted.signal.aborted) process.exitCode = 130;
      }
    });
}

/** `stack down` of the soak stack (its pids only), or with --keep-stack every server running. */
async function leaveStack(keep: boolean): Promise<void> {
  const work = keep
    ? ensureServersRunning().then((started) => {
        progressLine(
          `soak stack kept running${started.length ? ` (started again: ${started.join(', ')})` : ''}`,
        );
      })
    : soakStackDown(() => undefined).then((down) => {
        progressLine(`soak stack down: ${down.map((d) => `${d.server} ${d.action}`).join(', ')}`);
      });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => {
    timer = setTimeout(() => {
      progressLine(
        'the soak stack did not stop in time: run `BOARDING_LOCAL_DIR=… npx boarding stack down` (see docs/soak.md)',
      );
      r();
    }, STACK_DOWN_DEADLINE_MS);
  });
  await Promise.race([
    work.catch((err: unknown) => progressLine(`stack: ${(err as Error).message}`)),
    timeout,
  ]);
  clearTimeout(timer);
}

/** One line on stderr (with the error's code when it has one), and the exit status. */
export function reportSoakFailure(err: unknown): number {
  const e = err as { code?: unknown; message?: string; stack?: string };
  const code = typeof e.code === 'string' ? ` [${e.code}]` : '';
  process.stderr.write(`soak failed${code}: ${e.message ?? String(err)}\n`);
  if (process.env.DEBUG && e.stack) process.stderr.write(`${e.stack}\n`);
  return process.exitCode === 130 ? 130 : 2;
}
