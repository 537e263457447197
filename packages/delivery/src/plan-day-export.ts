import { devNull } from 'node:os';
import type { Keyring } from '@boarding/encryption/keyring';
import { assertExportDay } from '@boarding/export/build-day-export';
import { buildDayFile } from '@boarding/export/build-day-file';
import { dayFileName } from '@boarding/export/day-file-format';
import type { ExportSettings } from '@boarding/export/settings';
import type { Pool } from 'pg';
import { lastUsedVersion, summarizeVersion, type VersionSummary } from './ledger';

/**
 * What `deliverDayExport` would do for day D now (a dry run):
 * - WOULD_DELIVER: a new version (`version`, superseding `supersedes`), or, `resend`, a version
 *   whose earlier upload was never confirmed (or `force`) sent again with the same bytes.
 * - UNCHANGED: the content equals the last version sent; nothing would be sent.
 * - NOTHING_TO_DELIVER: no tap of D is stored and no version was ever sent (a day before the
 *   service existed): a range run skips it rather than tell the Ministry there were no boardings.
 */
export type DayExportPlan = {
  serviceDay: string;
  outcome: 'WOULD_DELIVER' | 'UNCHANGED' | 'NOTHING_TO_DELIVER';
  /** The version that would be sent (or that the content equals); null: nothing to deliver. */
  version: number | null;
  supersedes: number | null;
  resend: boolean;
  /** The file's name as it would be delivered. */
  file: string | null;
  /** Of the file as it would be delivered. */
  rows: number;
  bytes: number;
  sha256: string;
  /** The newest version ever sent (DELIVERED or IN_FLIGHT), or null. */
  lastSent: VersionSummary | null;
};

/**
 * Whether day D has nothing to deliver at all: no tap stored and no version ever sent. The
 * nightly late-window check skips such days for the same reason.
 */
export async function hasNothingToDeliver(pool: Pool, day: string): Promise<boolean> {
  const { rows } = await pool.query<{ taps: boolean; sent: boolean }>(
    `select exists (select 1 from boardings where service_day = $1::date) as taps,
            exists (select 1 from export_versions where service_day = $1::date) as sent`,
    [day],
  );
  return rows[0]?.taps === false && rows[0]?.sent === false;
}

/**
 * Dry run of an export of day D: build the file as `deliverDayExport` would (same query, same
 * snapshot rules, gzip as configured) but stream it to the null device, keeping only its size and
 * sha256, and compare it with the ledger as `deliverDayExport` does. Writes nothing: no ledger
 * row, no file (the clear TC and HES never touch a disk), no upload, and no day lock (a read
 * only; a concurrent export may make the answer stale, as any later run could).
 */
export async function planDayExport(
  ctx: { pool: Pool; keyring: Keyring; settings: ExportSettings; onRows?: (rows: number) => void },
  input: { day: string; force?: boolean; skipEmpty?: boolean },
): Promise<DayExportPlan> {
  assertExportDay(input.day);
  const nothing = input.skipEmpty === true && (await hasNothingToDeliver(ctx.pool, input.day));
  const built = nothing
    ? null
    : await buildDayFile({
        pool: ctx.pool,
        keyring: ctx.keyring,
        day: input.day,
        path: devNull,
        gzip: ctx.settings.gzip,
        onRows: ctx.onRows,
      });
  const last = await lastUsedVersion(ctx.pool, input.day);
  const lastSent = last ? summarizeVersion(last) : null;
  if (!built) {
    return {
      serviceDay: input.day,
      outcome: 'NOTHING_TO_DELIVER',
      version: null,
      supersedes: null,
      resend: false,
      file: null,
      rows: 0,
      bytes: 0,
      sha256: '',
      lastSent,
    };
  }
  const measured = { rows: built.rows, bytes: built.bytes, sha256: built.sha256 };
  // The very comparison deliverDayExport makes: same CSV and same delivered form.
  if (last && last.contentSha256 === built.contentSha256 && last.sha256 === built.sha256) {
    const resend = last.state === 'IN_FLIGHT' || input.force === true;
    return {
      serviceDay: input.day,
      outcome: resend ? 'WOULD_DELIVER' : 'UNCHANGED',
      version: last.version,
      supersedes: last.supersedes,
      resend,
      file: last.fileName,
      ...measured,
      lastSent,
    };
  }
  const version = (last?.version ?? 0) + 1;
  return {
    serviceDay: input.day,
    outcome: 'WOULD_DELIVER',
    version,
    supersedes: last?.version ?? null,
    resend: false,
    file: dayFileName(ctx.settings.operator, input.day, version, ctx.settings.gzip),
    ...measured,
    lastSent,
  };
}
