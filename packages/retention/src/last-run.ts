import type { Pool } from 'pg';

/**
 * When a retention run (the nightly job or `boarding retention run`, never a dry run) last
 * completed, Unix seconds; null when none ever did. Read from `retention_runs`, so every exporter
 * process, a restarted one too, reports the same truth to the alert that personal data is kept
 * past its age (infra/prometheus/alerts.yml, BoardingRetentionNotRun).
 */
export async function lastCompletedRetention(pool: Pool): Promise<number | null> {
  const { rows } = await pool.query<{ at: string | null }>(
    `select extract(epoch from max(finished_at))::float8::text as at
     from retention_runs where outcome = 'COMPLETED' and not dry_run`,
  );
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : Number(at);
}
