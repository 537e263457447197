import { createDb } from '@boarding/db/client';
import { runMigrations } from '@boarding/db/migrate';
import type { Command } from 'commander';
import { emit, type GlobalOptions } from '../output';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the committed database migrations (each once; safe to run again)')
    .option('--json', 'print the result as JSON')
    .action(async (options: GlobalOptions) => {
      const { pool } = createDb();
      try {
        const result = await runMigrations(pool);
        emit(options, result, (r) =>
          r.applied.length === 0
            ? `database up to date (${r.total} migrations applied earlier)`
            : `applied ${r.applied.length} migration(s): ${r.applied.join(', ')} (${r.total} in all)`,
        );
      } finally {
        await pool.end();
      }
    });
}
