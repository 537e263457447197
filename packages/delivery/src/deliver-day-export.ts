import type { Keyring } from '@boarding/encryption/keyring';
import {
  assertExportDay,
  type BuiltDayExport,
  buildDayExport,
  discardDayExport,
  ExportInputError,
  type PlacedDayExport,
  placeAsDeliveredCopy,
  placeDayExport,
} from '@boarding/export/build-day-export';
import { manifestFileName } from '@boarding/export/day-file-format';
import type { DayStats, IngestBehind, Manifest } from '@boarding/export/manifest';
import type { ExportSettings } from '@boarding/export/settings';
import type { Logger } from '@boarding/logger/logger';
import type { Pool } from 'pg';
import { acquireDayLock } from './day-lock';
import {
  type DeliveredVersion,
  finishAttempt,
  lastUsedVersion,
  type NewAttempt,
  type NewDeliveredVersion,
  recordAttempt,
  releaseReservation,
  reserveVersion,
  startAttempt,
} from './ledger';
import { type AttemptReport, deliverWithRetry } from './retry';
import type { DeliveryTransport } from './transport';

export { ExportInputError };

/**
 * Default wait for a day held by another export: a whole day's build and upload takes well under
 * a minute at 2 M taps; a holder past this is stuck, and the next try or night runs it.
 */
export const DAY_LOCK_TIMEOUT_MS = 10 * 60_000;

export type DayExportContext = {
  pool: Pool;
  keyring: Keyring;
  settings: ExportSettings;
  /** Needed unless every call is `deliver: false`. */
  transport?: DeliveryTransport;
  logger?: Logger;
  now?: () => Date;
  /**
   * The ingest group's lag on D's messages (SPEC §5), read once under the day lock before the
   * build and stated in the manifest's stats.ingestBehind. Absent, or unreadable: null there.
   */
  ingestBehind?: (day: string) => Promise<IngestBehind>;
  /**
   * How long to wait for day D's lock held by another export (a CLI run, another exporter's job)
   * before giving up with DAY_LOCK_TIMEOUT (retryable). Default DAY_LOCK_TIMEOUT_MS.
   */
  lockTimeoutMs?: number;
  /**
   * Stops the run (the exporter's job timeout): the lock wait, and the delivery's connection, are
   * closed at once; the build is given up at its end. Rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** Long work shows it is alive: rows written while building, each delivery try. */
  onProgress?: (event: { phase: 'build'; rows: number } | { phase: 'deliver'; attempt: number }) => void;
};

export type DayExportInput = {
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
export type DayExportOutcome = 'DELIVERED' | 'REDELIVERED' | 'UNCHANGED' | 'BUILT';

export type DayExportResult = {
  outcome: DayExportOutcome;
  serviceDay: string;
  version: number;
  supersedes: number | null;
  /** Local copies: the file (as delivered) and its manifest. */
  filePath: string;
  manifestPath: string;
  manifest: Manifest;
  /**
   * The stats of this run's build (ingestBehind as read now). The manifest's are the same for a
   * new version; for UNCHANGED and REDELIVERED the manifest is the one delivered before.
   */
  buildStats: DayStats;
  /** Delivery tries this run took (0 when nothing was sent). */
  attempts: number;
  target: string | null;
};

/**
 * Build day D's file (export) and deliver it per SPEC §4's version rules (delivery: the ledger
 * says which version the Ministry has). One export of a day at a time across every process (a
 * PostgreSQL advisory lock keyed by the day): a CLI run and the nightly job wait for each other
 * instead of racing a version. Every delivery try is in the ledger before the next wait; a run
 * that cannot deliver throws `DeliveryFailedError` with the ledger saying why.
 */
export async function deliverDayExport(
  ctx: DayExportContext,
  input: DayExportInput,
): Promise<DayExportResult> {
  assertExportDay(input.day);
  if (input.deliver && !ctx.transport) throw new ExportInputError('delivery asked without a transport');
  const now = ctx.now ?? (() => new Date());
  const lock = await acquireDayLock(ctx.pool, input.day, {
    timeoutMs: ctx.lockTimeoutMs ?? DAY_LOCK_TIMEOUT_MS,
    signal: ctx.signal,
  });
  try {
    const ingestBehind = ctx.ingestBehind
      ? await ctx.ingestBehind(input.day).catch((err: unknown) => {
          ctx.logger?.warn(
            { day: input.day, err: (err as Error).message },
            'ingest lag unreadable: the manifest says ingestBehind null',
          );
          return null;
        })
      : null;
    const built = await buildDayExport(
      {
        pool: ctx.pool,
        keyring: ctx.keyring,
        settings: ctx.settings,
        ingestBehind,
        onRows: (rows) => ctx.onProgress?.({ phase: 'build', rows }),
      },
      input.day,
    );
    try {
      ctx.signal?.throwIfAborted();
      // What the receiver may hold: the newest version ever sent, delivered or in flight.
      const last = await lastUsedVersion(ctx.pool, input.day);
      // Same CSV and same delivered form (a change of EXPORT_GZIP makes a new version).
      if (last && last.contentSha256 === built.contentSha256 && last.sha256 === built.sha256) {
        return await sameContent(ctx, input, last, built);
      }
      const version = (last?.version ?? 0) + 1;
      const placed = await placeDayExport(ctx.settings, built, {
        version,
        supersedes: last?.version ?? null,
        generatedAt: now(),
      });
      const result = resultOf('BUILT', input.day, placed, built, null);
      if (!input.deliver) return result;
      const attempts = await deliverAndRecord(ctx, input, placed, {
        serviceDay: input.day,
        version,
        fileName: placed.manifest.file,
        contentSha256: built.contentSha256,
        sha256: built.sha256,
        bytes: built.bytes,
        rows: built.rows,
        supersedes: placed.manifest.supersedes,
        manifestJson: placed.manifestJson,
      });
      ctx.logger?.info(
        { day: input.day, version, supersedes: placed.manifest.supersedes, rows: built.rows, attempts },
        'day file delivered',
      );
      return { ...result, outcome: 'DELIVERED', attempts, target: ctx.transport?.target ?? null };
    } finally {
      await discardDayExport(built);
    }
  } finally {
    await lock.release();
  }
}

function resultOf(
  outcome: DayExportOutcome,
  day: string,
  placed: PlacedDayExport,
  built: BuiltDayExport,
  target: string | null,
): DayExportResult {
  return {
    outcome,
    serviceDay: day,
    version: placed.manifest.version,
    supersedes: placed.manifest.supersedes,
    filePath: placed.filePath,
    manifestPath: placed.manifestPath,
    manifest: placed.manifest,
    buildStats: built.stats,
    attempts: 0,
    target,
  };
}

/**
 * The rebuild equals the newest version sent. DELIVERED: nothing to send, unless forced.
 * IN_FLIGHT (its upload's end was never recorded): the same bytes and the very same manifest are
 * sent again under its number, which then becomes DELIVERED: a number never names other bytes.
 */
async function sameContent(
  ctx: DayExportContext,
  input: DayExportInput,
  last: DeliveredVersion,
  built: BuiltDayExport,
): Promise<DayExportResult> {
  const placed = await placeAsDeliveredCopy(ctx.settings, built, last);
  const result = resultOf('UNCHANGED', input.day, placed, built, ctx.transport?.target ?? null);
  if (!input.deliver) return result;
  if (last.state === 'IN_FLIGHT') {
    const attempts = await deliverAndRecord(ctx, input, placed, null);
    ctx.logger?.info(
      { day: input.day, version: last.version, attempts },
      'day file delivered: a version whose earlier upload was never confirmed, sent again with the same bytes',
    );
    return { ...result, outcome: 'DELIVERED', attempts };
  }
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
  const attempts = await deliverAndRecord(ctx, input, placed, null);
  return { ...result, outcome: 'REDELIVERED', attempts };
}

function attemptBase(
  ctx: DayExportContext,
  input: DayExportInput,
  v: { version: number; fileName: string; sha256: string },
): Pick<NewAttempt, 'serviceDay' | 'version' | 'fileName' | 'sha256' | 'trigger' | 'target'> {
  return {
    serviceDay: input.day,
    version: v.version,
    fileName: v.fileName,
    sha256: v.sha256,
    trigger: input.force ? `${input.trigger}+force` : input.trigger,
    target: ctx.transport?.target ?? '',
  };
}

/**
 * The delivery ledger could not be written (the database away): retryable. The message says what
 * it means for the version, and the database's code, never its SQL or parameters.
 */
export class LedgerUnavailableError extends Error {
  readonly code = 'LEDGER_UNAVAILABLE';
  readonly retryable = true;
  constructor(what: string, cause: unknown) {
    super(`the delivery ledger could not be written (${databaseErrorCode(cause)}): ${what}`);
    this.name = 'LedgerUnavailableError';
  }
}

/** drizzle wraps the driver's error (`cause`), whose message holds the query and its parameters. */
function databaseErrorCode(err: unknown): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  const code = e.cause?.code ?? e.code;
  return typeof code === 'string' ? code : 'database error';
}

/**
 * Errors that mean no byte left for the receiver: the connection was refused or the server was
 * rejected before any file was opened. A reservation whose every try ended so is given back.
 */
const NOTHING_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'SFTP_HOST_KEY_MISMATCH',
  'SFTP_AUTH_REFUSED',
]);

/**
 * Upload a placed file and its manifest with retries, every try in the ledger before its upload
 * starts (IN_FLIGHT) and updated when it ends. `reserve`: a new version, reserved (IN_FLIGHT)
 * before the first try; null: the version is already reserved or delivered (an unconfirmed
 * upload sent again, a --force re-delivery).
 */
async function deliverAndRecord(
  ctx: DayExportContext,
  input: DayExportInput,
  placed: PlacedDayExport,
  reserve: NewDeliveredVersion | null,
): Promise<number> {
  const transport = ctx.transport;
  if (!transport) throw new ExportInputError('delivery asked without a transport');
  const m = placed.manifest;
  const base = attemptBase(ctx, input, { version: m.version, fileName: m.file, sha256: m.sha256 });
  const key = { serviceDay: input.day, version: m.version };
  if (reserve) await reserveVersion(ctx.pool, reserve);
  let current: number | undefined;
  let sentSomething = false;
  const beforeAttempt = async (attempt: number) => {
    ctx.onProgress?.({ phase: 'deliver', attempt });
    current = await startAttempt(ctx.pool, { ...base, attempt, startedAt: new Date() }).catch(
      (err: unknown) => {
        throw new LedgerUnavailableError(`v${m.version}: the try was not started (nothing sent)`, err);
      },
    );
  };
  const onAttempt = async (report: AttemptReport) => {
    const id = current;
    current = undefined;
    if (id === undefined) throw new Error('a delivery try ended that was never recorded as started');
    if (report.error) {
      if (!NOTHING_SENT.has(report.error.code)) sentSomething = true;
      ctx.logger?.warn(
        { day: input.day, version: m.version, attempt: report.attempt, code: report.error.code },
        `delivery attempt failed: ${report.error.message}`,
      );
      await finishAttempt(
        ctx.pool,
        id,
        { outcome: 'FAILED', errorCode: report.error.code, error: report.error.message },
        key,
      ).catch((err: unknown) => {
        throw new LedgerUnavailableError(`v${m.version}: a failed try could not be recorded`, err);
      });
    } else {
      sentSomething = true;
      await finishAttempt(ctx.pool, id, { outcome: 'DELIVERED', errorCode: null, error: null }, key).catch(
        (err: unknown) => {
          throw new LedgerUnavailableError(
            `v${m.version} reached the receiver but could not be recorded as delivered; it stays IN_FLIGHT, and the next export sends the same bytes again under v${m.version} or supersedes it`,
            err,
          );
        },
      );
    }
  };
  try {
    const { attempts } = await deliverWithRetry(
      transport,
      [
        { localPath: placed.filePath, name: m.file },
        // Last: its arrival tells the receiver the file beside it is complete.
        { localPath: placed.manifestPath, name: manifestFileName(m.file) },
      ],
      { policy: ctx.settings.retry, beforeAttempt, onAttempt, signal: ctx.signal },
    );
    return attempts;
  } catch (err) {
    // Only this run's own reservation, and only when no try can have reached the server.
    if (reserve && !sentSomething && current === undefined) {
      await releaseReservation(ctx.pool, input.day, m.version).catch(() => undefined);
    }
    throw err;
  }
}
