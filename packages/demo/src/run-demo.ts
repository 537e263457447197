import { closeSync, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import { join, posix } from 'node:path';
import { environmentWith, loadEnv, SftpEnv } from '@boarding/config/env';
import { localDir } from '@boarding/config/paths';
import { maskCardNo, maskHes, maskTc } from '@boarding/contracts/mask';
import type { Manifest } from '@boarding/export/manifest';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { createDemoSandbox } from './demo-sandbox';
import { assertDemoTargets, type DemoTarget } from './demo-targets';

/**
 * Runs one `boarding …` command as its own process (the demo is those commands, in order), with
 * `env` added to its environment; its stdout is returned with `capture`. Rejects when it fails.
 * The CLI provides it: this package does not start processes of the CLI by itself.
 */
export type RunCommand = (
  args: string[],
  options: { env: Record<string, string>; stdoutToStderr?: boolean; capture?: boolean },
) => Promise<string>;

export type DemoInput = {
  day: string;
  taps: number;
  seed: number;
  /** Targets allowed to point at a test host instead of the local stack (`--allow-target`). */
  allowTargets?: readonly DemoTarget[];
};

export type DemoHooks = {
  run: RunCommand;
  /** A line of progress for the user (the step about to run). */
  progress: (message: string) => void;
  /** The steps' own reports go to stderr (stdout carries only the result, e.g. with --json). */
  quietSteps: boolean;
};

/** What the Ministry received, as the demo shows it: counts and masked sample rows only. */
export type DemoResult = {
  day: string;
  outcome: string;
  version: number | null;
  remote: string;
  receivedAt: string | null;
  manifest: string;
  stats: Manifest['stats'];
  rows: number;
  sha256: string;
  sample: { tc: string; hes: string; card: string; at: string; mode: string; line: string; result: string }[];
  seconds: number;
  envFile: string;
};

/** What `boarding serve exporter --night D` prints: the job's outcome (counts, no personal data). */
const NightOutcome = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('completed'),
    result: z.object({ outcome: z.string(), version: z.number().nullable(), file: z.string().nullable() }),
  }),
  z.object({ state: z.literal('failed'), failedReason: z.string(), attemptsMade: z.number() }),
]);

/** What step 7 reads to show where the file went. */
const DemoShowEnv = SftpEnv.extend({ EXPORT_DIR: z.string().min(1).optional() });

const SAMPLE_ROWS = 5;

/**
 * The demo's plan (`boarding demo`): the whole pipeline on a simulated day, end to end, on the
 * local stack, in a sandbox every run re-creates. Each step is the real command a user types,
 * run as its own process with the sandbox's settings; step 6 is the exporter service itself
 * (`boarding serve exporter --night D`: the nightly job of D on a BullMQ worker, delivered to the
 * local SFTP server); step 7 reads what the Ministry received.
 */
export async function runDemo(input: DemoInput, hooks: DemoHooks): Promise<DemoResult> {
  const { day } = input;
  const allowTargets = input.allowTargets ?? [];
  // Before anything, even `stack up`: a host with production settings in its environment must
  // not get a database dropped or a synthetic file delivered to the Ministry. Checked again by
  // the sandbox against the `stack.env` that step 1 writes.
  assertDemoTargets(allowTargets);
  const started = Date.now();
  let env: Record<string, string> = {};
  const step = async (n: number, title: string, args: string[]) => {
    hooks.progress(`step ${n}/7: ${title} — boarding ${args.join(' ')}`);
    await hooks.run(args, { env, stdoutToStderr: hooks.quietSteps });
  };
  await step(1, 'the local stack', ['stack', 'up']);
  const sandbox = await createDemoSandbox(
    new Date().toISOString().replace(/\D/g, '').slice(0, 14),
    allowTargets,
  );
  hooks.progress(
    `sandbox: database boarding_demo, topic ${sandbox.env.KAFKA_TAPS_TOPIC}, settings in ${sandbox.envFile}`,
  );
  env = sandbox.env;
  await step(2, 'database migrations', ['migrate']);
  const demoDir = join(localDir(), 'demo');
  mkdirSync(demoDir, { recursive: true, mode: 0o700 });
  const registryFile = join(demoDir, `registry-${day}-seed${input.seed}.csv`);
  await step(3, `a simulated day of ${input.taps} taps and its registry`, [
    'simulate',
    '--day',
    day,
    '--taps',
    String(input.taps),
    '--seed',
    String(input.seed),
    '--registry-out',
    registryFile,
  ]);
  await step(4, 'the registry import', ['registry', 'import', registryFile, '--actor', 'demo']);
  await step(5, 'the ingest, until caught up', ['ingest', '--until-caught-up']);

  const night = ['serve', 'exporter', '--night', day];
  hooks.progress(
    `step 6/7: the nightly export job of ${day} through BullMQ, delivered by SFTP — boarding ${night.join(' ')}`,
  );
  const printed = await hooks.run(night, { env, capture: true });
  const job = NightOutcome.parse(JSON.parse(printed.trim().split('\n').at(-1) ?? 'null'));
  if (job.state === 'failed') {
    throw new Error(
      `the export job of ${day} failed after ${job.attemptsMade} tries: ${job.failedReason} (see: npx boarding export status --day ${day})`,
    );
  }

  hooks.progress('step 7/7: what the Ministry received');
  const show = loadEnv(DemoShowEnv, environmentWith(env));
  const exportDir = show.EXPORT_DIR ?? join(localDir(), 'exports');
  const file = job.result.file ?? '';
  const manifestName = file.replace(/\.csv(\.gz)?$/, '.manifest.json');
  const manifest = JSON.parse(readFileSync(join(exportDir, manifestName), 'utf8')) as Manifest;
  // The local server's upload directory says nothing of where a file sent to a test host went.
  const receiverDir = allowTargets.includes('SFTP_HOST') ? undefined : environmentWith().SFTP_LOCAL_INCOMING;
  return {
    day,
    outcome: job.result.outcome,
    version: job.result.version,
    remote: `sftp://${show.SFTP_USER}@${show.SFTP_HOST}:${show.SFTP_PORT}${posix.join(show.SFTP_REMOTE_DIR, file)}`,
    receivedAt: receiverDir ? join(receiverDir, file) : null,
    manifest: posix.join(show.SFTP_REMOTE_DIR, manifestName),
    stats: manifest.stats,
    rows: manifest.rows,
    sha256: manifest.sha256,
    sample: file.endsWith('.csv') ? maskedSample(join(exportDir, file)) : [],
    seconds: Math.round((Date.now() - started) / 100) / 10,
    envFile: sandbox.envFile,
  };
}

/** The first rows of the local copy (its first 64 KiB is plenty), TC, HES and card masked. */
function maskedSample(path: string): DemoResult['sample'] {
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
