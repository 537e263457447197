import { resolve } from 'node:path';
import { environmentWith, IngestGroupEnv, KafkaEnv, loadEnv, SftpEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import { type DayExportResult, deliverDayExport } from '@boarding/delivery/deliver-day-export';
import { deliveredVersions, type LedgerEntry, readLedger, summarizeVersion } from '@boarding/delivery/ledger';
import { sftpTransportFromEnv } from '@boarding/delivery/sftp-transport';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { ExportEnv, exportSettings } from '@boarding/export/settings';
import { createIngestBehindReader, type IngestBehindReader } from '@boarding/ingest/lag-before';
import type { Command } from 'commander';
import { parseDay, wholeNumber } from '../arguments';
import { emit, type GlobalOptions, table } from '../output';
import { createProgressBar } from '../progress';
import { verifyKeys } from '../verify-keys';

type RunOptions = GlobalOptions & { day: string; deliver: boolean; out?: string; force?: boolean };
type StatusOptions = GlobalOptions & { day?: string; limit: number };

export function registerExport(program: Command): void {
  const exp = program
    .command('export')
    .description("the day's boarding file for the Health Ministry (SPEC §4): build, deliver, ledger");

  exp
    .command('run')
    .description(
      'build the file of a day now and deliver it by SFTP: a new version only if the content changed since the last delivered one',
    )
    .requiredOption('--day <YYYY-MM-DD>', 'the service day')
    .option('--force', 're-deliver the last delivered version when the content has not changed')
    .option('--no-deliver', 'build the file and its manifest locally only (no SFTP, no ledger)')
    .option(
      '--out <dir>',
      'where files and manifests are written and kept (default EXPORT_DIR or .local/exports)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (options: RunOptions) => {
      const day = parseDay(options.day);
      const env = loadEnv(ExportEnv);
      const settings = exportSettings(env);
      if (options.out) settings.outDir = resolve(options.out);
      // The SFTP settings are needed (and checked) only when something is to be delivered.
      const transport = options.deliver ? sftpTransportFromEnv(loadEnv(SftpEnv)) : undefined;
      const keyring = loadKeyring();
      const { pool } = createDb();
      const gate = ingestGateFromEnv();
      const bar = options.json ? undefined : createProgressBar(`export ${day}`, { total: false });
      try {
        await verifyKeys(pool, keyring);
        bar?.start(0, 0, { phase: 'building', rows: 0 });
        const result = await deliverDayExport(
          {
            pool,
            keyring,
            settings,
            transport,
            ingestBehind: gate?.read,
            onProgress: (e) =>
              e.phase === 'build'
                ? bar?.update({ phase: 'building', rows: e.rows })
                : bar?.update({ phase: `delivering (try ${e.attempt})` }),
          },
          { day, deliver: options.deliver, force: options.force, trigger: 'cli' },
        );
        bar?.stop();
        emit(options, result, describeResult);
      } finally {
        bar?.stop();
        await gate?.close();
        await pool.end();
      }
    });

  exp
    .command('status')
    .description('the delivery ledger: every delivery attempt, newest first, and the versions delivered')
    .option('--day <YYYY-MM-DD>', 'one service day only')
    .option('--limit <n>', 'at most this many attempts', wholeNumber(1), 50)
    .option('--json', 'print { versions, attempts } as JSON')
    .action(async (options: StatusOptions) => {
      const day = options.day === undefined ? undefined : parseDay(options.day);
      if (!Number.isInteger(options.limit) || options.limit < 1)
        throw new Error('--limit must be a positive integer');
      const { pool } = createDb();
      try {
        const attempts = await readLedger(pool, { day, limit: options.limit });
        const versions = day === undefined ? [] : await deliveredVersions(pool, day);
        const status = {
          day: day ?? null,
          versions: versions.map(summarizeVersion),
          attempts,
        };
        emit(options, status, (s) => {
          const parts: string[] = [];
          if (s.day !== null) {
            parts.push(
              s.versions.length === 0
                ? `day ${s.day}: no version delivered yet`
                : `day ${s.day}: versions (IN_FLIGHT: sent, never confirmed; its number is used)\n${table(
                    ['version', 'state', 'file', 'rows', 'bytes', 'sha256', 'supersedes', 'delivered at'],
                    s.versions.map((v) => [
                      `v${v.version}`,
                      v.state,
                      v.file,
                      v.rows,
                      v.bytes,
                      v.sha256.slice(0, 16),
                      v.supersedes === null ? null : `v${v.supersedes}`,
                      v.deliveredAt,
                    ]),
                  )}`,
            );
          }
          parts.push(
            s.attempts.length === 0
              ? 'the delivery ledger is empty'
              : `delivery ledger (newest first)\n${ledgerTable(s.attempts)}`,
          );
          return parts.join('\n');
        });
      } finally {
        await pool.end();
      }
    });
}

/**
 * The ingest gate's reading for the manifest's stats.ingestBehind (SPEC §5) when Kafka is
 * configured: the file is built and delivered all the same, and says how far the ingest was
 * behind; a reading that fails or overruns its time limit leaves it null. KAFKA_BROKERS unset:
 * not read; set but malformed: the configuration error, not a silent "not checked".
 */
function ingestGateFromEnv(): IngestBehindReader | undefined {
  const source = environmentWith();
  if (source.KAFKA_BROKERS === undefined) return undefined;
  const env = loadEnv(KafkaEnv.extend(IngestGroupEnv.shape), source);
  return createIngestBehindReader({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-export`,
    groupId: env.INGEST_GROUP_ID,
    topic: env.KAFKA_TAPS_TOPIC,
  });
}

function ledgerTable(rows: LedgerEntry[]): string {
  return table(
    ['finished', 'day', 'version', 'try', 'outcome', 'trigger', 'sha256', 'error'],
    rows.map((r) => [
      // An IN_FLIGHT try has no end yet: it shows when it started.
      r.finishedAt === null
        ? `(started ${r.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')})`
        : r.finishedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
      r.serviceDay,
      `v${r.version}`,
      r.attempt,
      r.outcome,
      r.trigger,
      r.sha256.slice(0, 16),
      r.error === null ? null : `${r.errorCode ?? ''} ${r.error}`.trim().slice(0, 80),
    ]),
  );
}

function describeResult(r: DayExportResult): string {
  const m = r.manifest;
  const s = m.stats;
  const head: Record<DayExportResult['outcome'], string> = {
    DELIVERED: `day ${r.serviceDay}: delivered v${r.version}${r.supersedes === null ? '' : ` (supersedes v${r.supersedes})`} to ${r.target} in ${r.attempts} attempt(s)`,
    REDELIVERED: `day ${r.serviceDay}: re-delivered v${r.version} (--force; same bytes and manifest as before) to ${r.target} in ${r.attempts} attempt(s)`,
    UNCHANGED: `day ${r.serviceDay}: unchanged since v${r.version}: nothing delivered (--force sends v${r.version} again)`,
    BUILT: `day ${r.serviceDay}: built v${r.version}${r.supersedes === null ? '' : ` (would supersede v${r.supersedes})`}; not delivered (--no-deliver)`,
  };
  return [
    head[r.outcome],
    `file: ${m.file}: ${m.rows} rows, ${m.bytes} bytes, sha256 ${m.sha256}`,
    `local copy: ${r.filePath} (holds TC and HES in clear: keep it where only the export runs)`,
    `manifest: ${r.manifestPath}`,
    `taps stored: ${s.tapsStored} (${s.accepted} accepted, ${s.rejected} rejected); in the file (matched): ${s.matched}; unmatched: ${s.unmatched}; duplicates dropped: ${s.duplicatesDropped}; dead-lettered: ${s.deadLettered}`,
    `validators: ${s.validatorsSeen} seen, ${s.validatorsComplete} complete, ${s.validatorsWithGaps.length} with gaps, ${s.validatorsAwaitingUpload.length} not yet uploaded past the day`,
  ].join('\n');
}
