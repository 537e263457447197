import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCalendarDay } from '@boarding/contracts/time';
import { type AttemptReport, deliverWithRetry } from '@boarding/delivery/retry';
import type { DeliveryTransport } from '@boarding/delivery/transport';
import type { Keyring } from '@boarding/encryption/keyring';
import type { Logger } from '@boarding/logger/logger';
import type { Pool } from 'pg';
import { buildDayFile } from './build-day-file';
import { dayFileName, manifestFileName } from './day-file-format';
import {
  type DeliveredVersion,
  lastDeliveredVersion,
  type NewAttempt,
  recordAttempt,
  recordDelivered,
} from './ledger';
import { dayStats, type Manifest } from './manifest';
import type { ExportSettings } from './settings';

export type ExportContext = {
  pool: Pool;
  keyring: Keyring;
  settings: ExportSettings;
  /** Needed unless every call is `deliver: false`. */
  transport?: DeliveryTransport;
  logger?: Logger;
  now?: () => Date;
  /** Long work shows it is alive: rows written while building, each delivery try. */
  onProgress?: (event: { phase: 'build'; rows: number } | { phase: 'deliver'; attempt: number }) => void;
};

export type ExportDayInput = {
  day: string;
  /** false: build the file and manifest locally, touch neither the receiver nor the ledger. */
  deliver: boolean;
  /** Send the last delivered version again when the content has not changed. */
  force?: boolean;
  /** What started this run, kept in the ledger: nightly, late-window, cli, replay, demo… */
  trigger: string;
};

/**
 * - DELIVERED: a new version (v1, or v(N+1) superseding N) reached the receiver.
 * - REDELIVERED: `force`, the content unchanged: the same version sent again, same bytes.
 * - UNCHANGED: the content equals the last delivered version; nothing was sent.
 * - BUILT: `deliver: false`; the file and manifest are on local disk only.
 */
export type ExportOutcome = 'DELIVERED' | 'REDELIVERED' | 'UNCHANGED' | 'BUILT';

export type ExportDayResult = {
  outcome: ExportOutcome;
  serviceDay: string;
  version: number;
  supersedes: number | null;
  /** Local copies: the file (as delivered) and its manifest. */
  filePath: string;
  manifestPath: string;
  manifest: Manifest;
  /** Delivery tries this run took (0 when nothing was sent). */
  attempts: number;
  target: string | null;
};

/** The day is not YYYY-MM-DD, or delivery was asked without a transport. */
export class ExportInputError extends Error {
  readonly code = 'EXPORT_INPUT_INVALID';
  readonly retryable = false;
}

/**
 * Build day D's file from the registry as it stands now and deliver it per SPEC §4's version
 * rules. One export of a day at a time across every process (a PostgreSQL advisory lock keyed
 * by the day): a CLI run and the nightly job wait for each other instead of racing a version.
 * Every delivery try is in the ledger before the next wait; a run that cannot deliver throws
 * `DeliveryFailedError` with the ledger saying why.
 */
export async function exportDay(ctx: ExportContext, input: ExportDayInput): Promise<ExportDayResult> {
  if (!isCalendarDay(input.day)) {
    throw new ExportInputError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(input.day)}`);
  }
  if (input.deliver && !ctx.transport) throw new ExportInputError('delivery asked without a transport');
  const now = ctx.now ?? (() => new Date());
  const { settings } = ctx;
  mkdirSync(settings.outDir, { recursive: true, mode: 0o700 });

  const lock = await ctx.pool.connect();
  try {
    await lock.query('select pg_advisory_lock(hashtextextended($1, 0))', [`boarding-export:${input.day}`]);
    const building = join(
      settings.outDir,
      `.build-${input.day}-${randomBytes(4).toString('hex')}.csv${settings.gzip ? '.gz' : ''}`,
    );
    try {
      const built = await buildDayFile({
        pool: ctx.pool,
        keyring: ctx.keyring,
        day: input.day,
        path: building,
        gzip: settings.gzip,
        inSnapshot: (client, rows) => dayStats(client, input.day, rows, settings.tapsTopic),
        onRows: (rows) => ctx.onProgress?.({ phase: 'build', rows }),
      });
      const last = await lastDeliveredVersion(ctx.pool, input.day);
      // Same CSV and same delivered form (a change of EXPORT_GZIP makes a new version).
      if (last && last.contentSha256 === built.contentSha256 && last.sha256 === built.sha256) {
        return await sameContent(ctx, input, last, building);
      }
      const version = (last?.version ?? 0) + 1;
      const file = dayFileName(settings.operator, input.day, version, settings.gzip);
      const manifest: Manifest = {
        serviceDay: input.day,
        version,
        file,
        bytes: built.bytes,
        sha256: built.sha256,
        rows: built.rows,
        generatedAt: now().toISOString(),
        supersedes: last?.version ?? null,
        stats: built.extra,
      };
      const filePath = join(settings.outDir, file);
      await rename(building, filePath);
      const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;
      const manifestPath = await writeManifest(settings.outDir, file, manifestJson);
      const result: ExportDayResult = {
        outcome: 'BUILT',
        serviceDay: input.day,
        version,
        supersedes: manifest.supersedes,
        filePath,
        manifestPath,
        manifest,
        attempts: 0,
        target: null,
      };
      if (!input.deliver) return result;
      const attempts = await deliverAndRecord(ctx, input, result, {
        serviceDay: input.day,
        version,
        fileName: file,
        contentSha256: built.contentSha256,
        sha256: built.sha256,
        bytes: built.bytes,
        rows: built.rows,
        supersedes: manifest.supersedes,
        manifestJson,
      });
      ctx.logger?.info(
        { day: input.day, version, supersedes: manifest.supersedes, rows: built.rows, attempts },
        'day file delivered',
      );
      return { ...result, outcome: 'DELIVERED', attempts, target: ctx.transport?.target ?? null };
    } finally {
      await rm(building, { force: true });
    }
  } finally {
    // The advisory lock belongs to this session: closing it is the sure way to let go.
    lock.release(true);
  }
}

/** The rebuild equals the last delivered version: nothing to send, unless forced. */
async function sameContent(
  ctx: ExportContext,
  input: ExportDayInput,
  last: DeliveredVersion,
  building: string,
): Promise<ExportDayResult> {
  // Same content, same bytes (deterministic build): the local copy is that version's file.
  const filePath = join(ctx.settings.outDir, last.fileName);
  await rename(building, filePath);
  const manifestPath = await writeManifest(ctx.settings.outDir, last.fileName, last.manifestJson);
  const result: ExportDayResult = {
    outcome: 'UNCHANGED',
    serviceDay: input.day,
    version: last.version,
    supersedes: last.supersedes,
    filePath,
    manifestPath,
    manifest: JSON.parse(last.manifestJson) as Manifest,
    attempts: 0,
    target: ctx.transport?.target ?? null,
  };
  if (!input.deliver) return result;
  if (!input.force) {
    await recordAttempt(ctx.pool, {
      ...attemptBase(ctx, input, last),
      attempt: 0,
      outcome: 'UNCHANGED',
      errorCode: null,
      error: null,
      startedAt: new Date(),
    });
    ctx.logger?.info({ day: input.day, version: last.version }, 'day file unchanged: nothing delivered');
    return result;
  }
  // The receiver lost it: the same file and the very manifest it had, sent again.
  const attempts = await deliverAndRecord(ctx, input, result, null);
  return { ...result, outcome: 'REDELIVERED', attempts };
}

function attemptBase(
  ctx: ExportContext,
  input: ExportDayInput,
  v: { version: number; fileName?: string; file?: string; sha256: string },
): Pick<NewAttempt, 'serviceDay' | 'version' | 'fileName' | 'sha256' | 'trigger' | 'target'> {
  return {
    serviceDay: input.day,
    version: v.version,
    fileName: v.fileName ?? v.file ?? '',
    sha256: v.sha256,
    trigger: input.force ? `${input.trigger}+force` : input.trigger,
    target: ctx.transport?.target ?? '',
  };
}

async function deliverAndRecord(
  ctx: ExportContext,
  input: ExportDayInput,
  result: ExportDayResult,
  newVersion: Omit<DeliveredVersion, 'deliveredAt'> | null,
): Promise<number> {
  const transport = ctx.transport;
  if (!transport) throw new ExportInputError('delivery asked without a transport');
  const base = attemptBase(ctx, input, result.manifest);
  ctx.onProgress?.({ phase: 'deliver', attempt: 1 });
  const onAttempt = async (report: AttemptReport) => {
    const row: NewAttempt = {
      ...base,
      attempt: report.attempt,
      outcome: report.error ? 'FAILED' : 'DELIVERED',
      errorCode: report.error?.code ?? null,
      error: report.error?.message ?? null,
      startedAt: report.startedAt,
    };
    if (report.error) {
      ctx.logger?.warn(
        { day: input.day, version: result.version, attempt: report.attempt, code: report.error.code },
        `delivery attempt failed: ${report.error.message}`,
      );
      await recordAttempt(ctx.pool, row);
      ctx.onProgress?.({ phase: 'deliver', attempt: report.attempt + 1 });
    } else {
      await recordDelivered(ctx.pool, row, newVersion);
    }
  };
  const { attempts } = await deliverWithRetry(
    transport,
    [
      { localPath: result.filePath, name: result.manifest.file },
      // Last: its arrival tells the receiver the file beside it is complete.
      { localPath: result.manifestPath, name: manifestFileName(result.manifest.file) },
    ],
    { policy: ctx.settings.retry, onAttempt },
  );
  return attempts;
}

async function writeManifest(dir: string, fileName: string, json: string): Promise<string> {
  const path = join(dir, manifestFileName(fileName));
  await writeFile(path, json, { mode: 0o600 });
  return path;
}
