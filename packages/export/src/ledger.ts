import { withTransaction } from '@boarding/db/transaction';
import type { Pool } from 'pg';

export type DeliveredVersion = {
  serviceDay: string;
  version: number;
  fileName: string;
  contentSha256: string;
  sha256: string;
  bytes: number;
  rows: number;
  supersedes: number | null;
  /** The manifest file's bytes as delivered. */
  manifestJson: string;
  deliveredAt: Date;
};

export type AttemptOutcome = 'DELIVERED' | 'FAILED' | 'UNCHANGED';

export type LedgerEntry = {
  id: number;
  serviceDay: string;
  version: number;
  fileName: string;
  sha256: string;
  attempt: number;
  outcome: AttemptOutcome;
  trigger: string;
  target: string;
  errorCode: string | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date;
};

export type NewAttempt = Omit<LedgerEntry, 'id' | 'finishedAt'>;

/** A delivered version as commands show it (no manifest bytes). */
export type VersionSummary = {
  version: number;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  supersedes: number | null;
  deliveredAt: string;
};

export function summarizeVersion(v: DeliveredVersion): VersionSummary {
  return {
    version: v.version,
    file: v.fileName,
    rows: v.rows,
    bytes: v.bytes,
    sha256: v.sha256,
    supersedes: v.supersedes,
    deliveredAt: v.deliveredAt.toISOString(),
  };
}

const VERSION_COLUMNS = `service_day::text as "serviceDay", version, file_name as "fileName",
  content_sha256 as "contentSha256", sha256, bytes::float8 as bytes, rows, supersedes, manifest_json as "manifestJson",
  delivered_at as "deliveredAt"`;

/** The newest version of day D that reached the receiver, or null if none has. */
export async function lastDeliveredVersion(pool: Pool, day: string): Promise<DeliveredVersion | null> {
  const { rows } = await pool.query<DeliveredVersion>(
    `select ${VERSION_COLUMNS} from export_versions where service_day = $1::date order by version desc limit 1`,
    [day],
  );
  return rows[0] ?? null;
}

/** Every delivered version of day D, oldest first. */
export async function deliveredVersions(pool: Pool, day: string): Promise<DeliveredVersion[]> {
  const { rows } = await pool.query<DeliveredVersion>(
    `select ${VERSION_COLUMNS} from export_versions where service_day = $1::date order by version`,
    [day],
  );
  return rows;
}

const INSERT_ATTEMPT = `insert into delivery_attempts
  (service_day, version, file_name, sha256, attempt, outcome, trigger, target, error_code, error, started_at)
  values ($1::date, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`;

function attemptParams(a: NewAttempt): unknown[] {
  return [
    a.serviceDay,
    a.version,
    a.fileName,
    a.sha256,
    a.attempt,
    a.outcome,
    a.trigger,
    a.target,
    a.errorCode,
    a.error,
    a.startedAt,
  ];
}

/** A failed or UNCHANGED attempt. */
export async function recordAttempt(pool: Pool, attempt: NewAttempt): Promise<void> {
  await pool.query(INSERT_ATTEMPT, attemptParams(attempt));
}

/**
 * A successful delivery: the attempt and (for a new version) the version row, in one
 * transaction, so "last delivered version" never disagrees with the ledger.
 */
export async function recordDelivered(
  pool: Pool,
  attempt: NewAttempt,
  version: Omit<DeliveredVersion, 'deliveredAt'> | null,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(INSERT_ATTEMPT, attemptParams(attempt));
    if (version) {
      await client.query(
        `insert into export_versions
           (service_day, version, file_name, content_sha256, sha256, bytes, rows, supersedes, manifest_json)
         values ($1::date, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (service_day, version) do nothing`,
        [
          version.serviceDay,
          version.version,
          version.fileName,
          version.contentSha256,
          version.sha256,
          version.bytes,
          version.rows,
          version.supersedes,
          version.manifestJson,
        ],
      );
    }
  });
}

/** The ledger, newest first: every attempt of one day, or of all days. */
export async function readLedger(
  pool: Pool,
  options: { day?: string; limit?: number } = {},
): Promise<LedgerEntry[]> {
  const { rows } = await pool.query<LedgerEntry>(
    `select id::float8 as id, service_day::text as "serviceDay", version, file_name as "fileName", sha256,
            attempt, outcome, trigger, target, error_code as "errorCode", error,
            started_at as "startedAt", finished_at as "finishedAt"
     from delivery_attempts
     where ($1::date is null or service_day = $1::date)
     order by id desc limit $2`,
    [options.day ?? null, options.limit ?? 100],
  );
  return rows;
}
