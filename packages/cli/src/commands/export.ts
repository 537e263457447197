import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localDir } from '@boarding/config/paths';
import { createDb } from '@boarding/db/client';
import { loadKeyring } from '@boarding/encryption/keyring';
import { buildDayFile } from '@boarding/export/build-day-file';
import { dayFileName } from '@boarding/export/day-file-format';
import { dayStats, type Manifest } from '@boarding/export/manifest';
import type { Command } from 'commander';
import { emit, type GlobalOptions } from '../output';

type RunOptions = GlobalOptions & {
  day: string;
  deliver: boolean;
  out?: string;
  operator: string;
  force?: boolean;
};

export function registerExport(program: Command): void {
  const exp = program
    .command('export')
    .description("the day's boarding file for the Health Ministry (SPEC §4)");

  exp
    .command('run')
    .description('build the file of a day now (delivery by SFTP is not built yet: use --no-deliver)')
    .requiredOption('--day <YYYY-MM-DD>', 'the service day')
    .option('--no-deliver', 'build the file and its manifest only')
    .option('--out <dir>', 'where to write the file and the manifest (default .local/exports)')
    .option('--operator <name>', 'OPERATOR in the file name', process.env.EXPORT_OPERATOR ?? 'ESHOT')
    .option('--force', 're-deliver the same version (needs delivery)')
    .option('--json', 'print the manifest as JSON')
    .action(async (options: RunOptions) => {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(options.day)) throw new Error('--day must be YYYY-MM-DD');
      if (options.deliver) {
        throw new Error(
          'delivery to the Ministry (SFTP, versions, ledger) is not built yet; run with --no-deliver to build the file only',
        );
      }
      const out = resolve(options.out ?? join(localDir(), 'exports'));
      mkdirSync(out, { recursive: true, mode: 0o700 });
      // Versions come with the delivery ledger; until then every local build is v1.
      const version = 1;
      const file = dayFileName(options.operator, options.day, version);
      const { pool } = createDb();
      try {
        const built = await buildDayFile({
          pool,
          keyring: loadKeyring(),
          day: options.day,
          path: join(out, file),
        });
        const client = await pool.connect();
        let manifest: Manifest;
        try {
          manifest = {
            serviceDay: options.day,
            version,
            file,
            bytes: built.bytes,
            sha256: built.sha256,
            rows: built.rows,
            generatedAt: new Date().toISOString(),
            supersedes: null,
            stats: await dayStats(client, options.day, built.rows),
          };
        } finally {
          client.release();
        }
        const manifestPath = join(out, file.replace(/\.csv$/, '.manifest.json'));
        writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
        emit(options, manifest, (m) =>
          [
            `${join(out, m.file)}: ${m.rows} rows, ${m.bytes} bytes, sha256 ${m.sha256}`,
            `manifest: ${manifestPath}`,
            `day ${m.serviceDay}: ${m.stats.tapsStored} taps stored (${m.stats.accepted} accepted, ${m.stats.rejected} rejected), ${m.stats.matched} matched, ${m.stats.unmatched} unmatched, ${m.stats.duplicatesDropped} duplicates dropped, ${m.stats.deadLettered} dead-lettered`,
            `validators: ${m.stats.validatorsSeen} seen, ${m.stats.validatorsComplete} complete, ${m.stats.validatorsWithGaps.length} with gaps, ${m.stats.validatorsAwaitingUpload.length} not yet uploaded past the day`,
            'not delivered (--no-deliver); the file holds TC and HES in clear: keep it where only the export runs',
          ].join('\n'),
        );
      } finally {
        await pool.end();
      }
    });
}
