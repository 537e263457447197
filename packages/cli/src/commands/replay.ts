import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadEnv, SftpEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import {
  type DayExportContext,
  type DayExportResult,
  deliverDayExport,
} from '@boarding/delivery/deliver-day-export';
import { deliveredVersions } from '@boarding/delivery/ledger';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import { type Keyring, loadKeyring } from '@boarding/encryption/keyring';
import { type DayFileDiff, diffDayFiles } from '@boarding/export/day-diff';
import { ExportEnv, type ExportSettings, exportSettings } from '@boarding/export/settings';
import { type ReplayDayResult, type ReplayProgress, replayDay } from '@boarding/ingest/replay-range';
import { IngestEnv } from '@boarding/ingest-service/env';
import { createKafka } from '@boarding/kafka/client';
import { createLogger, type Logger } from '@boarding/logger/logger';
import type { Command } from 'commander';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import { parseDay } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';
import { createProgressBar } from '../progress';

/** Rows of each kind (added, removed, changed) shown from the difference. */
const SAMPLES = 10;

export type VersionRef = { version: number; file: string; rows: number; sha256: string; deliveredAt: string };

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

export type ReplayCommandContext = {
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
    );
    this.name = 'ReplayExportError';
    this.code = typeof e.code === 'string' ? e.code : 'REPLAY_EXPORT_FAILED';
    this.retryable = e.retryable === true;
  }
}

/**
 * `boarding replay`: re-ingest day D from Kafka (idempotent), rebuild its file from the store and
 * the registry as they are now (delivering it only with `deliver`), and compare the rebuild with
 * the last version the Ministry received.
 */
export async function runReplay(
  ctx: ReplayCommandContext,
  input: { day: string; deliver: boolean },
): Promise<ReplayReport> {
  const replay = await replayDay({
    kafka: ctx.kafka,
    pool: ctx.pool,
    topic: ctx.topic,
    day: input.day,
    maxTapAgeDays: ctx.maxTapAgeDays,
    chunkSize: ctx.chunkSize,
    concurrency: ctx.concurrency,
    logger: ctx.logger,
    onProgress: ctx.onReplayProgress,
  });
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
    deliveredAt: delivered.deliveredAt.toISOString(),
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

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      "re-read a day's taps from Kafka and re-ingest them idempotently, rebuild the day's file and show how it differs from the last delivered version; delivers only with --deliver",
    )
    .requiredOption('--day <YYYY-MM-DD>', 'the service day (Europe/Istanbul)')
    .option('--deliver', 'deliver the rebuilt file if its content differs from the last delivered version')
    .option('--json', 'print the result as one JSON object')
    .action(async (options: GlobalOptions & { day: string; deliver?: boolean }) => {
      const day = parseDay(options.day, '--day');
      const deliver = options.deliver === true;
      // Every setting is checked before the long read starts.
      const env = loadEnv(IngestEnv);
      const settings = exportSettings(loadEnv(ExportEnv));
      const transport = deliver ? sftpTransportFromEnv(loadEnv(SftpEnv)) : undefined;
      const keyring = loadKeyring();
      const logger = createLogger('replay', { level: process.env.LOG_LEVEL ?? 'warn' });
      const { pool } = createDb({ url: env.DATABASE_URL, pool: { max: env.INGEST_CONCURRENCY + 2 } });
      const kafka = createKafka({
        brokers: env.KAFKA_BROKERS,
        clientId: `${env.KAFKA_CLIENT_ID}-replay`,
        logger,
      });
      const replayBar = options.json ? undefined : createProgressBar(`replay ${day}`);
      let replayBarStarted = false;
      const exportBar = options.json ? undefined : createProgressBar(`export ${day}`, { total: false });
      try {
        const report = await runReplay(
          {
            kafka,
            pool,
            keyring,
            settings,
            transport,
            logger,
            topic: env.KAFKA_TAPS_TOPIC,
            maxTapAgeDays: env.MAX_TAP_AGE_DAYS,
            chunkSize: env.INGEST_CHUNK_SIZE,
            concurrency: env.INGEST_CONCURRENCY,
            onReplayProgress: (p) => {
              if (!replayBar) return;
              if (!replayBarStarted) {
                replayBarStarted = true;
                replayBar.start(p.total, p.read, { phase: 'reading', rows: 0 });
              }
              // `rows` here: taps newly stored so far.
              replayBar.update(p.read, {
                phase: `${p.partitionsDone}/${p.partitions} partitions`,
                rows: p.stored,
              });
              if (p.partitionsDone === p.partitions) replayBar.stop();
            },
            onExportProgress: (e) => {
              if (!exportBar) return;
              replayBar?.stop();
              if (e.phase === 'build') {
                if (!exportBar.isActive) exportBar.start(0, 0, { phase: 'building', rows: 0 });
                exportBar.update({ phase: 'building', rows: e.rows });
              } else {
                exportBar.update({ phase: `delivering (try ${e.attempt})` });
              }
            },
          },
          { day, deliver },
        );
        replayBar?.stop();
        exportBar?.stop();
        emit(options, report, describeReplay);
      } finally {
        replayBar?.stop();
        exportBar?.stop();
        await pool.end();
      }
    });
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

export function describeReplay(r: ReplayReport): string {
  const p = r.replay;
  const e = r.export;
  const letters = Object.entries(p.deadLettered).map(([k, v]) => `${k} ${v}`);
  const head: Record<ReplayReport['export']['outcome'], string> = {
    DELIVERED: `delivered v${e.version}${e.supersedes === null ? '' : ` (supersedes v${e.supersedes})`} to ${e.target} in ${e.attempts} attempt(s)`,
    REDELIVERED: `re-delivered v${e.version} to ${e.target}`,
    UNCHANGED: `unchanged since v${e.version}: nothing to deliver`,
    BUILT: `built v${e.version}${e.supersedes === null ? '' : ` (would supersede v${e.supersedes})`}; not delivered (add --deliver to deliver it)`,
  };
  const lines = [
    `replay of ${r.day} from ${p.topic}: ${p.messagesRead} messages read in ${p.seconds.toFixed(1)}s`,
    `  taps of ${r.day}: ${p.tapsOfDay} read, ${p.storedOfDay} of them were missing and are stored again`,
    `  every day in the window: ${p.stored} newly stored (${p.matched} matched), ${p.alreadyStored} already stored, ${p.duplicates} duplicates, ${sum(p.deadLettered)} dead letters${letters.length > 0 ? ` (${letters.join(', ')})` : ''}`,
    `file: ${head[e.outcome]}`,
    `  ${e.file}: ${e.rows} rows, ${e.bytes} bytes, sha256 ${e.sha256}`,
    `  local copy: ${e.filePath} (holds TC and HES in clear: keep it where only the export runs)`,
  ];
  lines.push(...describeComparison(r.comparison, e));
  return lines.join('\n');
}

function describeComparison(c: Comparison, e: ReplayReport['export']): string[] {
  switch (c.kind) {
    case 'NO_VERSION_DELIVERED':
      return ['no version of this day was ever delivered: nothing to compare with'];
    case 'UNCHANGED':
      return [
        `same content as v${c.against.version} (${c.against.file}, delivered ${c.against.deliveredAt})`,
      ];
    case 'NO_LOCAL_COPY':
      return [
        `v${c.against.version} (${c.against.file}) has ${
          c.localCopy === 'MISSING'
            ? 'no local copy in the export directory'
            : 'a local copy that is not the delivered bytes'
        }: compared by rows and sha256 only`,
        `  rows ${c.rows.delivered} → ${c.rows.rebuilt}; sha256 ${c.sha256.delivered.slice(0, 16)}… → ${c.sha256.rebuilt.slice(0, 16)}…`,
      ];
    case 'DIFF': {
      const d = c.diff;
      const lines = [
        `difference from v${c.against.version} (${c.against.file}, delivered ${c.against.deliveredAt}) to ${e.file}: ${d.added} added, ${d.removed} removed, ${d.changed} changed, ${d.unchanged} unchanged`,
      ];
      const rows = [
        ...d.samples.added.map((s) => ['added', s.dogrulayici_no, s.islem_no, s.binis_zamani, s.kart_no, '']),
        ...d.samples.removed.map((s) => [
          'removed',
          s.dogrulayici_no,
          s.islem_no,
          s.binis_zamani,
          s.kart_no,
          '',
        ]),
        ...d.samples.changed.map((s) => [
          'changed',
          s.dogrulayici_no,
          s.islem_no,
          s.after.binis_zamani,
          s.after.kart_no,
          s.columns.map((col) => `${col}: ${s.before[col] || '∅'} → ${s.after[col] || '∅'}`).join('; '),
        ]),
      ];
      if (rows.length > 0) {
        lines.push(
          `samples (at most ${SAMPLES} of each; TC, HES and card numbers masked)`,
          table(['', 'validator', 'seq', 'boarding time', 'card', 'changed'], rows),
        );
      }
      return lines;
    }
  }
}
