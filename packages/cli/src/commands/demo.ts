import { closeSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, posix } from 'node:path';
import { environmentWith, loadEnv, SftpEnv } from '@boarding/config/env';
import { localDir } from '@boarding/config/paths';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import { addDays, calendarDateIn, SERVICE_TIME_ZONE } from '@boarding/contracts/time';
import type { Manifest } from '@boarding/export/manifest';
import { type Command, InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { parseDay } from '../arguments';
import { emit, type GlobalOptions, progressLine, table } from '../output';
import { createDemoSandbox } from './demo-sandbox';

type DemoOptions = GlobalOptions & { day?: string; taps: number; seed: number };

/**
 * Runs one `boarding …` command as its own process (the demo is those commands, in order), with
 * `env` added to its environment; rejects when it fails.
 */
export type RunCommand = (
  args: string[],
  options: { env: Record<string, string>; stdoutToStderr?: boolean; capture?: boolean },
) => Promise<string>;

const whole = (value: string): number => {
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return n;
};

const SAMPLE_ROWS = 5;

/**
 * `boarding demo`: the whole pipeline on a simulated day, end to end, on the local stack — each
 * step is the real command a user would type, then the nightly export of that day runs as a
 * BullMQ job on an exporter worker and delivers to the local SFTP server.
 */
export function registerDemo(program: Command, run: RunCommand): void {
  program
    .command('demo')
    .description(
      'the whole pipeline on a simulated day: stack up, migrate, simulate a registry and a day, import, ingest, nightly export job (BullMQ), SFTP delivery',
    )
    .option('--day <YYYY-MM-DD>', 'the service day to simulate (default: yesterday in Europe/Istanbul)')
    .option('--taps <n>', 'taps of the simulated day (about a minute of work at the default)', whole, 200000)
    .option('--seed <n>', 'simulation seed: the same seed gives the same day', whole, 1)
    .option('--json', 'print the result as JSON')
    .action(async (options: DemoOptions) => {
      const day = options.day ?? addDays(calendarDateIn(new Date(), SERVICE_TIME_ZONE), -1);
      parseDay(day);
      const started = Date.now();
      // Each step is the real command, as its own process with the sandbox's settings in its
      // environment: nothing of this process's environment or output is overwritten.
      let sandboxEnv: Record<string, string> = {};
      const step = async (n: number, title: string, args: string[]) => {
        progressLine('demo', `step ${n}/7: ${title} — boarding ${args.join(' ')}`);
        // With --json, stdout carries only the demo's result: the steps' own reports go to stderr.
        await run(args, { env: sandboxEnv, stdoutToStderr: options.json === true });
      };
      await step(1, 'the local stack', ['stack', 'up']);
      const sandbox = await createDemoSandbox(new Date().toISOString().replace(/\D/g, '').slice(0, 14));
      progressLine(
        'demo',
        `sandbox: database boarding_demo, topic ${sandbox.env.KAFKA_TAPS_TOPIC}, settings in ${sandbox.envFile}`,
      );
      sandboxEnv = sandbox.env;
      await step(2, 'database migrations', ['migrate']);
      const demoDir = join(localDir(), 'demo');
      mkdirSync(demoDir, { recursive: true, mode: 0o700 });
      const registryFile = join(demoDir, `registry-${day}-seed${options.seed}.csv`);
      await step(3, `a simulated day of ${options.taps} taps and its registry`, [
        'simulate',
        '--day',
        day,
        '--taps',
        String(options.taps),
        '--seed',
        String(options.seed),
        '--registry-out',
        registryFile,
      ]);
      await step(4, 'the registry import', ['registry', 'import', registryFile, '--actor', 'demo']);
      await step(5, 'the ingest, until caught up', ['ingest', '--until-caught-up']);
      await exportAndShow(day, started, sandbox, options, run);
    });
}

/** What `boarding serve exporter --night D` prints: the job's outcome (counts, no personal data). */
type DemoNight =
  | {
      state: 'completed';
      result: { outcome: string; version: number | null; file: string | null };
    }
  | { state: 'failed'; failedReason: string; attemptsMade: number };

/** What step 7 reads to show where the file went. */
const DemoShowEnv = SftpEnv.extend({ EXPORT_DIR: z.string().min(1).optional() });

/** Steps 6 and 7: the nightly export job of D through BullMQ, then what the Ministry received. */
async function exportAndShow(
  day: string,
  started: number,
  sandbox: { env: Record<string, string>; envFile: string },
  options: DemoOptions,
  run: RunCommand,
): Promise<void> {
  const envFile = sandbox.envFile;
  progressLine(
    'demo',
    `step 6/7: the nightly export job of ${day} through BullMQ, delivered by SFTP — boarding serve exporter --night ${day}`,
  );
  // The exporter service itself, as its own process: a BullMQ worker runs the job the 03:30
  // firing of the night after D would enqueue, delivers, prints the outcome and exits.
  const printed = await run(['serve', 'exporter', '--night', day], { env: sandbox.env, capture: true });
  const job = JSON.parse(printed.trim().split('\n').at(-1) ?? 'null') as DemoNight;
  if (job.state !== 'completed') {
    throw new Error(
      `the export job of ${day} failed after ${job.attemptsMade} tries: ${job.failedReason} (see: npx boarding export status --day ${day})`,
    );
  }
  const env = loadEnv(DemoShowEnv, environmentWith(sandbox.env));

  progressLine('demo', 'step 7/7: what the Ministry received');
  const result = job.result;
  const exportDir = env.EXPORT_DIR ?? join(localDir(), 'exports');
  const file = result.file ?? '';
  const manifestName = file.replace(/\.csv(\.gz)?$/, '.manifest.json');
  const manifest = JSON.parse(readFileSync(join(exportDir, manifestName), 'utf8')) as Manifest;
  const receiverDir = environmentWith().SFTP_LOCAL_INCOMING;
  const summary = {
    day,
    outcome: result.outcome,
    version: result.version,
    remote: `sftp://${env.SFTP_USER}@${env.SFTP_HOST}:${env.SFTP_PORT}${posix.join(env.SFTP_REMOTE_DIR, file)}`,
    receivedAt: receiverDir ? join(receiverDir, file) : null,
    manifest: posix.join(env.SFTP_REMOTE_DIR, manifestName),
    stats: manifest.stats,
    rows: manifest.rows,
    sha256: manifest.sha256,
    sample: file.endsWith('.csv') ? maskedSample(join(exportDir, file)) : [],
    seconds: Math.round((Date.now() - started) / 100) / 10,
    envFile,
  };
  emit(options, summary, (s) => {
    const st = s.stats;
    return [
      '',
      s.outcome === 'UNCHANGED'
        ? `day ${s.day}: v${s.version} was already delivered and the content is unchanged: nothing new was sent (a fresh --day or --seed delivers a new file)`
        : `day ${s.day}: ${s.outcome.toLowerCase()} v${s.version} by SFTP in ${s.seconds}s end to end`,
      `  file:     ${s.remote}`,
      s.receivedAt ? `  on disk:  ${s.receivedAt} (the local SFTP server's upload directory)` : '',
      `  manifest: ${s.manifest}`,
      `  ${s.rows} rows (matched taps), sha256 ${s.sha256}`,
      `  taps stored ${st.tapsStored}: ${st.accepted} accepted, ${st.rejected} rejected; matched ${st.matched}, unmatched ${st.unmatched}; duplicates dropped ${st.duplicatesDropped}; dead-lettered ${st.deadLettered}`,
      `  validators: ${st.validatorsSeen} seen, ${st.validatorsComplete} complete, ${st.validatorsWithGaps.length} with gaps, ${st.validatorsAwaitingUpload.length} not yet uploaded past the day`,
      `first ${s.sample.length} rows (TC, HES and card masked here; in clear in the delivered file):`,
      s.sample.length > 0
        ? table(
            ['tc_kimlik_no', 'hes_kodu', 'kart_no', 'binis_zamani', 'ulasim_turu', 'hat_kodu', 'sonuc'],
            s.sample.map((r) => [r.tc, r.hes, r.card, r.at, r.mode, r.line, r.result]),
          )
        : '  (none)',
      `the demo ran in its own sandbox (re-created by every run); to look around with its settings:`,
      `  set -a; . ${s.envFile}; set +a`,
      `  npx boarding day show ${s.day}; npx boarding export status --day ${s.day}; npx boarding replay --day ${s.day}`,
    ]
      .filter((l) => l !== '')
      .join('\n');
  });
}

/** The first rows of the local copy (its first 64 KiB is plenty), TC and HES masked. */
function maskedSample(path: string) {
  const buffer = Buffer.alloc(64 * 1024);
  const fd = openSync(path, 'r');
  let length: number;
  try {
    length = readSync(fd, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(fd);
  }
  const head = buffer
    .subarray(0, length)
    .toString('utf8')
    .split('\r\n')
    .slice(0, SAMPLE_ROWS + 1)
    .join('\r\n');
  const rows = parse(head, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => ({
    tc: maskTc(r.tc_kimlik_no ?? ''),
    hes: maskHes(r.hes_kodu ?? ''),
    card: maskCardNo(r.kart_no ?? ''),
    at: r.binis_zamani ?? '',
    mode: r.ulasim_turu ?? '',
    line: r.hat_kodu ?? '',
    result: r.sonuc ?? '',
  }));
}
