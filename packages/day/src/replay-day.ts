import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  type DayExportContext,
  type DayExportResult,
  deliverDayExport,
} from '@boarding/delivery/deliver-day-export';
import { deliveredVersions } from '@boarding/delivery/ledger';
import { type DayExportPlan, planDayExport } from '@boarding/delivery/plan-day-export';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import type { Keyring } from '@boarding/encryption/keyring';
import { type DayFileDiff, diffDayFiles } from '@boarding/export/day-diff';
import type { ExportSettings } from '@boarding/export/settings';
import {
  planReingestDay,
  type ReplayDayOptions,
  type ReplayDayResult,
  type ReplayPlanResult,
  type ReplayProgress,
  reingestDay,
} from '@boarding/ingest/replay-range';
import type { Logger } from '@boarding/logger/logger';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';

/** Rows of each kind (added, removed, changed) shown from the difference. */
export const SAMPLES = 10;

export type VersionRef = {
  version: number;
  file: string;
  rows: number;
  sha256: string;
  /** Null: sent, never confirmed (IN_FLIGHT); the receiver may hold it all the same. */
  deliveredAt: string | null;
};

/** How the rebuilt file compares with the last version the Ministry received. */
export type Comparison =
  | { kind: 'NO_VERSION_DELIVERED' }
  /** The rebuild has the very content of that version: nothing to deliver. */
  | { kind: 'UNCHANGED'; against: VersionRef }
  /** Compared row by row with the local copy of that version (kept in the export directory). */
  | { kind: 'DIFF'; against: VersionRef; diff: DayFileDiff }
  /** Its local copy is missing (delivered from another machine) or not the delivered bytes. */
  | {
      kind: 'NO_LOCAL_COPY';
      against: VersionRef;
      localCopy: 'MISSING' | 'DIFFERENT_BYTES';
      rows: { delivered: number; rebuilt: number };
      sha256: { delivered: string; rebuilt: string };
    };

export type ReplayReport = {
  day: string;
  replay: ReplayDayResult;
  export: {
    outcome: DayExportResult['outcome'];
    version: number;
    supersedes: number | null;
    file: string;
    rows: number;
    bytes: number;
    sha256: string;
    filePath: string;
    target: string | null;
    attempts: number;
  };
  comparison: Comparison;
};

export type ReplayDayContext = {
  kafka: Kafka;
  pool: Pool;
  keyring: Keyring;
  settings: ExportSettings;
  /** Needed with `deliver`. */
  transport?: DeliveryTransport;
  logger: Logger;
  topic: string;
  maxTapAgeDays: number;
  chunkSize: number;
  concurrency: number;
  onReplayProgress?: (p: ReplayProgress) => void;
  onExportProgress?: DayExportContext['onProgress'];
};

/** The day was replayed, then building or delivering its file failed: says how far it got. */
export class ReplayExportError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  constructor(day: string, replay: ReplayDayResult, cause: unknown) {
    const e = cause as { code?: unknown; message?: unknown; retryable?: unknown };
    super(
      `replay of ${day} done (${replay.storedOfDay} taps of the day stored again), then the export failed: ${
        typeof e.message === 'string' ? e.message : String(cause)
      }`,
      // Kept: the CLI's exit status tells a delivery that failed from a server out of reach.
      { cause },
    );
    this.name = 'ReplayExportError';
    this.code = typeof e.code === 'string' ? e.code : 'REPLAY_EXPORT_FAILED';
    this.retryable = e.retryable === true;
  }
}

/**
 * Replay day D (`boarding replay`): re-ingest day D from Kafka (idempotent), rebuild its file from the store and
 * the registry as they are now (delivering it only with `deliver`), and compare the rebuild with
 * the last version the Ministry received.
 */
export async function replayDay(
  ctx: ReplayDayContext,
  input: { day: string; deliver: boolean },
): Promise<ReplayReport> {
  const replay = await reingestDay(windowReadOf(ctx, input.day));
  let built: DayExportResult;
  try {
    built = await deliverDayExport(
      {
        pool: ctx.pool,
        keyring: ctx.keyring,
        settings: ctx.settings,
        transport: ctx.transport,
        logger: ctx.logger,
        onProgress: ctx.onExportProgress,
      },
      { day: input.day, deliver: input.deliver, trigger: 'replay' },
    );
  } catch (err) {
    throw new ReplayExportError(input.day, replay, err);
  }
  const m = built.manifest;
  return {
    day: input.day,
    replay,
    export: {
      outcome: built.outcome,
      version: built.version,
      supersedes: built.supersedes,
      file: m.file,
      rows: m.rows,
      bytes: m.bytes,
      sha256: m.sha256,
      filePath: built.filePath,
      target: built.target,
      attempts: built.attempts,
    },
    comparison: await compareWithDelivered(ctx.pool, ctx.settings, built),
  };
}

/**
 * What `boarding replay --day D [--deliver]` would do now, changing nothing:
 * - WOULD_DELIVER: the rebuilt file would differ from the last version sent (or none was sent):
 *   taps of D missing from the store would come back as rows of the file (`missing.rows`), or the
 *   store and registry as they are already make another file (`plan`); `--deliver` would send
 *   version `version`.
 * - UNCHANGED: nothing of D is missing and the file as the store makes it equals the last version
 *   sent: a replay would store nothing of D and deliver nothing.
 * Taps of D missing from the store whose card has no match at their time are stored by a replay
 * but are not rows of the file (SPEC §4): they never change the verdict.
 */
export type ReplayPlanReport = {
  day: string;
  dryRun: true;
  verdict: 'WOULD_DELIVER' | 'UNCHANGED';
  /** The version `--deliver` would send; null: none (UNCHANGED). */
  version: number | null;
  replay: ReplayPlanResult;
  /** The day's file as the store and the registry make it now, before any replay. */
  plan: DayExportPlan;
};

export async function planReplayDay(
  ctx: Omit<ReplayDayContext, 'transport' | 'onExportProgress'> & { onBuildRows?: (rows: number) => void },
  input: { day: string },
): Promise<ReplayPlanReport> {
  const replay = await planReingestDay(windowReadOf(ctx, input.day));
  const plan = await planDayExport(
    { pool: ctx.pool, keyring: ctx.keyring, settings: ctx.settings, onRows: ctx.onBuildRows },
    { day: input.day },
  );
  // Taps of D coming back as rows make new content: the version after the last one used.
  const version =
    replay.missingOfDayMatched > 0
      ? (plan.lastSent?.version ?? 0) + 1
      : plan.outcome === 'WOULD_DELIVER'
        ? plan.version
        : null;
  return {
    day: input.day,
    dryRun: true,
    verdict: version === null ? 'UNCHANGED' : 'WOULD_DELIVER',
    version,
    replay,
    plan,
  };
}

/** How the replay and its dry run read day D's Kafka window: the ingest's own settings. */
function windowReadOf(
  ctx: Pick<
    ReplayDayContext,
    'kafka' | 'pool' | 'topic' | 'maxTapAgeDays' | 'chunkSize' | 'concurrency' | 'logger' | 'onReplayProgress'
  >,
  day: string,
): ReplayDayOptions {
  return {
    kafka: ctx.kafka,
    pool: ctx.pool,
    topic: ctx.topic,
    day,
    maxTapAgeDays: ctx.maxTapAgeDays,
    chunkSize: ctx.chunkSize,
    concurrency: ctx.concurrency,
    logger: ctx.logger,
    onProgress: ctx.onReplayProgress,
  };
}

async function compareWithDelivered(
  pool: Pool,
  settings: ExportSettings,
  built: DayExportResult,
): Promise<Comparison> {
  // The version the rebuild was judged against inside deliverDayExport (under its lock): the one it
  // equals, or the one it supersedes (delivered now) or would supersede (built only).
  const base =
    built.outcome === 'UNCHANGED' || built.outcome === 'REDELIVERED' ? built.version : built.supersedes;
  if (base === null) return { kind: 'NO_VERSION_DELIVERED' };
  const delivered = (await deliveredVersions(pool, built.serviceDay)).find((v) => v.version === base);
  if (!delivered) throw new Error(`v${base} of ${built.serviceDay} is not in the delivery ledger`);
  const against: VersionRef = {
    version: delivered.version,
    file: delivered.fileName,
    rows: delivered.rows,
    sha256: delivered.sha256,
    deliveredAt: delivered.deliveredAt?.toISOString() ?? null,
  };
  if (built.outcome === 'UNCHANGED' || built.outcome === 'REDELIVERED') return { kind: 'UNCHANGED', against };
  const copy = join(settings.outDir, delivered.fileName);
  // Only the delivered bytes are a fair "before": a copy rebuilt or edited since is not.
  const copySha256 = await sha256OfFile(copy);
  if (copySha256 !== delivered.sha256) {
    return {
      kind: 'NO_LOCAL_COPY',
      against,
      localCopy: copySha256 === null ? 'MISSING' : 'DIFFERENT_BYTES',
      rows: { delivered: delivered.rows, rebuilt: built.manifest.rows },
      sha256: { delivered: delivered.sha256, rebuilt: built.manifest.sha256 },
    };
  }
  return { kind: 'DIFF', against, diff: await diffDayFiles(copy, built.filePath, { samples: SAMPLES }) };
}

/** sha256 (hex) of a file's bytes, or null when there is no such file. */
async function sha256OfFile(path: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    await pipeline(createReadStream(path), hash);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
  return hash.digest('hex');
}
