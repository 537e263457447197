import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER } from '@boarding/db/migrate';
import type { Pool } from 'pg';
import { CHECK_LIMIT_MS, type Check, messageOf, timedCheck } from './check';
import { reachFix } from './reach-fix';
import { withoutCredentials } from './redact';

/** PostgreSQL answers a query on DATABASE_URL as its user. */
export function checkPostgres(pool: Pool, url: string, limitMs = CHECK_LIMIT_MS): Promise<Check> {
  const at = withoutCredentials(url);
  return timedCheck(
    'postgres',
    limitMs,
    async () => {
      const { rows } = await pool.query<{ version: string; who: string }>(
        "select current_setting('server_version') as version, current_user as who",
      );
      return { ok: true, detail: `${at} answers as ${rows[0]?.who} (PostgreSQL ${rows[0]?.version})` };
    },
    (err) => ({ ok: false, detail: messageOf(err), fix: reachFix(err, 'PostgreSQL', 'DATABASE_URL', at) }),
  );
}

type JournalEntry = { tag: string; when: number };

/** The committed migrations, in order (drizzle-kit's journal). */
export function committedMigrations(folder: string = MIGRATIONS_FOLDER): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/**
 * Which committed migrations are applied. drizzle's migrator applies every journal entry newer than
 * the last applied one (`created_at` holds the entry's `when`), so the pending are exactly those.
 */
export function checkMigrations(pool: Pool, limitMs = CHECK_LIMIT_MS): Promise<Check> {
  return timedCheck('migrations', limitMs, async () => {
    const committed = committedMigrations();
    const { rows } = await pool.query<{ present: boolean }>(
      "select to_regclass('drizzle.__drizzle_migrations') is not null as present",
    );
    let last = -1;
    let applied = 0;
    if (rows[0]?.present) {
      const r = await pool.query<{ n: number; last: string | null }>(
        'select count(*)::int as n, max(created_at)::text as last from drizzle.__drizzle_migrations',
      );
      applied = r.rows[0]?.n ?? 0;
      last = r.rows[0]?.last === null || r.rows[0]?.last === undefined ? -1 : Number(r.rows[0].last);
    }
    const pending = committed.filter((m) => m.when > last).map((m) => m.tag);
    const newest = committed.at(-1);
    if (pending.length > 0) {
      return {
        ok: false,
        detail: `${applied} of ${committed.length} applied; pending: ${pending.join(', ')}`,
        fix: 'run `boarding migrate`',
      };
    }
    if (newest !== undefined && (last > newest.when || applied > committed.length)) {
      return {
        ok: false,
        detail: `the database has ${applied} migrations, newer than this checkout's ${committed.length} (last ${newest.tag})`,
        fix: 'run the release that migrated this database, or point DATABASE_URL at this release’s database',
      };
    }
    return { ok: true, detail: `all ${committed.length} applied (last ${newest?.tag ?? 'none'})` };
  });
}
