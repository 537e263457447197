import type { Logger } from '@boarding/logger/logger';
import { runRetention } from '@boarding/retention/run-retention';
import type { RetentionSettings } from '@boarding/retention/settings';
import type { Pool } from 'pg';
import type { RetentionJobResult } from './retention';

export type RetentionHandlerContext = {
  pool: Pool;
  logger: Logger;
  /** EXPORT_DIR: where the local copies of day files are kept. */
  exportDir: string;
  settings: RetentionSettings;
  now: () => Date;
};

/**
 * Run retention once. Idempotent: a retry (or the next night) finds only what is still there;
 * another run in progress fails the try with RETENTION_BUSY, retried with backoff.
 */
export async function handleRetention(ctx: RetentionHandlerContext): Promise<RetentionJobResult> {
  const report = await runRetention({
    pool: ctx.pool,
    exportDir: ctx.exportDir,
    settings: ctx.settings,
    now: ctx.now,
    dryRun: false,
    source: 'job',
  });
  ctx.logger.info(
    { runId: report.runId, cutoffs: report.cutoffs, counts: report.counts },
    'retention run done',
  );
  return { runId: report.runId, cutoffs: report.cutoffs, counts: report.counts };
}
