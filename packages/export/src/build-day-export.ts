import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCalendarDay } from '@boarding/contracts/time';
import type { Keyring } from '@boarding/encryption/keyring';
import type { Pool } from 'pg';
import { buildDayFile } from './build-day-file';
import { dayFileName, manifestFileName } from './day-file-format';
import {
  type DayStats,
  dayStatsBeforeRows,
  type IngestBehind,
  type Manifest,
  withFileRows,
} from './manifest';
import type { ExportSettings } from './settings';

export type BuildContext = {
  pool: Pool;
  keyring: Keyring;
  settings: ExportSettings;
  /** Long work shows it is alive: rows written so far. */
  onRows?: (rows: number) => void;
  /** The ingest's lag on D when the build started (stats.ingestBehind); null: not checked. */
  ingestBehind?: IngestBehind | null;
};

/** Day D's file, built under a temporary name in the export directory, not yet versioned. */
export type BuiltDayExport = {
  day: string;
  /** The file as it would be delivered (the .gz when compressed), under a temporary name. */
  tempPath: string;
  rows: number;
  bytes: number;
  /** Of the file as delivered. */
  sha256: string;
  /** Of the CSV before any gzip: what "the content differs" means (SPEC §4 versions). */
  contentSha256: string;
  stats: DayStats;
};

/** A built file given its version: final name, manifest beside it (both 0600). */
export type PlacedDayExport = {
  filePath: string;
  manifestPath: string;
  manifest: Manifest;
  /** The manifest's bytes: what is delivered, and kept for a --force re-delivery. */
  manifestJson: string;
};

/** The day is not YYYY-MM-DD. */
export class ExportInputError extends Error {
  readonly code = 'EXPORT_INPUT_INVALID';
  readonly retryable = false;
}

export function assertExportDay(day: string): void {
  if (!isCalendarDay(day)) {
    throw new ExportInputError(`day must be a date as YYYY-MM-DD, got ${JSON.stringify(day)}`);
  }
}

/**
 * Build day D's file (SPEC §4) from the registry as it stands now, with the manifest's stats
 * read in the same snapshot, into a temporary file of the export directory (0700). The caller
 * gives it a version (`placeDayExport`), or discards it (`discardDayExport`).
 */
export async function buildDayExport(ctx: BuildContext, day: string): Promise<BuiltDayExport> {
  assertExportDay(day);
  const { settings } = ctx;
  mkdirSync(settings.outDir, { recursive: true, mode: 0o700 });
  const tempPath = join(
    settings.outDir,
    `.build-${day}-${randomBytes(4).toString('hex')}.csv${settings.gzip ? '.gz' : ''}`,
  );
  try {
    const built = await buildDayFile({
      pool: ctx.pool,
      keyring: ctx.keyring,
      day,
      path: tempPath,
      gzip: settings.gzip,
      inSnapshot: (client) => dayStatsBeforeRows(client, day, settings.tapsTopic, ctx.ingestBehind ?? null),
      onRows: ctx.onRows,
    });
    return {
      day,
      tempPath,
      rows: built.rows,
      bytes: built.bytes,
      sha256: built.sha256,
      contentSha256: built.contentSha256,
      stats: withFileRows(built.extra, built.rows),
    };
  } catch (err) {
    await rm(tempPath, { force: true });
    throw err;
  }
}

/** Give the built file its version: the final name `BINIS_<OP>_<YYYYMMDD>_v<N>`, and its manifest. */
export async function placeDayExport(
  settings: ExportSettings,
  built: BuiltDayExport,
  version: { version: number; supersedes: number | null; generatedAt: Date },
): Promise<PlacedDayExport> {
  const file = dayFileName(settings.operator, built.day, version.version, settings.gzip);
  const manifest: Manifest = {
    serviceDay: built.day,
    version: version.version,
    file,
    bytes: built.bytes,
    sha256: built.sha256,
    rows: built.rows,
    generatedAt: version.generatedAt.toISOString(),
    supersedes: version.supersedes,
    stats: built.stats,
  };
  const filePath = join(settings.outDir, file);
  await rename(built.tempPath, filePath);
  const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;
  const manifestPath = await writeManifest(settings.outDir, file, manifestJson);
  return { filePath, manifestPath, manifest, manifestJson };
}

/**
 * The build has the very content of a version delivered before: it becomes that version's local
 * copy (same content, same bytes: the build is deterministic), with the manifest delivered then.
 */
export async function placeAsDeliveredCopy(
  settings: ExportSettings,
  built: BuiltDayExport,
  delivered: { fileName: string; manifestJson: string },
): Promise<PlacedDayExport> {
  const filePath = join(settings.outDir, delivered.fileName);
  await rename(built.tempPath, filePath);
  const manifestPath = await writeManifest(settings.outDir, delivered.fileName, delivered.manifestJson);
  return {
    filePath,
    manifestPath,
    manifest: JSON.parse(delivered.manifestJson) as Manifest,
    manifestJson: delivered.manifestJson,
  };
}

/** Remove the temporary file of a build that was not placed (idempotent). */
export async function discardDayExport(built: BuiltDayExport): Promise<void> {
  await rm(built.tempPath, { force: true });
}

async function writeManifest(dir: string, fileName: string, json: string): Promise<string> {
  const path = join(dir, manifestFileName(fileName));
  await writeFile(path, json, { mode: 0o600 });
  return path;
}
