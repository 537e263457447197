import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { createDb } from '@boarding/db/client';
import { loadKeyring } from '@boarding/encryption/load-keyring';
import { type ImportReport, importMatches } from '@boarding/registry/import/import-matches';
import { formatReject } from '@boarding/registry/import/reject-log';
import type { Command } from 'commander';
import { emit, type GlobalOptions } from '../output';
import { createProgressBar } from '../progress';
import { verifyKeys } from '../verify-keys';

type ImportOptions = GlobalOptions & { skipInvalid?: boolean; rejects?: string; actor?: string };

const SHOWN_REJECTS = 50;

function human(r: ImportReport): string {
  const secs = (r.ms / 1000).toFixed(1);
  const lines: string[] = [];
  if (r.outcome === 'REJECTED') {
    lines.push(
      `${r.file}: REJECTED, nothing applied (${r.invalid} invalid of ${r.rows} rows; the file is applied in one transaction or not at all)`,
    );
  } else if (r.outcome === 'UNCHANGED') {
    lines.push(
      `${r.file}: UNCHANGED, nothing to apply: all ${r.applied?.unchanged ?? 0} valid rows are already in the registry (${secs}s)`,
    );
  } else {
    const a = r.applied;
    lines.push(`${r.file}: APPLIED in one transaction (${secs}s)`);
    if (a) {
      lines.push(
        `  ${r.rows} rows read; matches: ${a.inserted} inserted, ${a.closed} closed, ${a.unchanged} unchanged; ${a.persons} new persons, ${a.cards} new cards`,
      );
    }
  }
  if (r.invalid > 0) {
    for (const reject of r.rejects.slice(0, SHOWN_REJECTS)) lines.push(formatReject(reject));
    if (r.invalid > SHOWN_REJECTS) lines.push(`… and ${r.invalid - SHOWN_REJECTS} more`);
    const by = Object.entries(r.invalidByReason)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`invalid rows by reason: ${by}`);
    if (r.rejectsFile) lines.push(`every rejected line: ${r.rejectsFile}`);
    if (r.outcome === 'REJECTED')
      lines.push(
        'fix the file, or use --skip-invalid to apply the valid rows and write the rejects to a file',
      );
  }
  return lines.join('\n');
}

export function registerRegistry(program: Command): void {
  const registry = program.command('registry').description('the card–HES–TC registry (SPEC §3)');

  registry
    .command('import')
    .description(
      'bulk import matches from a CSV file (header card_no,tc_kimlik_no,hes_code,card_kind,valid_from,valid_to)',
    )
    .argument('<file>', 'the CSV file')
    .option('--skip-invalid', 'apply the valid rows; write invalid and overlapping rows to the rejects file')
    .option(
      '--rejects <file>',
      'where to write rejected lines (default with --skip-invalid: FILE.rejects.csv)',
    )
    .option('--actor <name>', 'who runs the import, for the audit trail (default: the OS user)')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: ImportOptions) => {
      const keyring = loadKeyring();
      const { db, pool } = createDb();
      const bar = createProgressBar('import');
      let barStarted = false;
      try {
        // A wrong index key would make every person of the file new: checked before anything is read.
        await verifyKeys(pool, keyring);
        const report = await importMatches({
          ctx: { db, keyring, actor: { id: options.actor ?? userInfo().username, channel: 'IMPORT' } },
          pool,
          input: {
            path: resolve(file),
            skipInvalid: options.skipInvalid ?? false,
            rejectsPath: options.rejects,
          },
          onProgress: (p) => {
            if (!barStarted) {
              bar.start(p.totalBytes, 0, { phase: p.phase, rows: 0 });
              barStarted = true;
            }
            bar.setTotal(p.totalBytes);
            bar.update(p.bytesRead, { phase: p.phase, rows: p.rows });
          },
        });
        if (barStarted) bar.stop();
        emit(options, report, human);
        if (report.outcome === 'REJECTED') process.exitCode = 1;
      } finally {
        if (barStarted) bar.stop();
        await pool.end();
      }
    });
}
