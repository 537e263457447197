import { Client } from 'pg';

// A database name we create and drop by interpolation: letters, digits and underscores only.
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Drop database `name` (if it exists) and create it empty, connected as the role of `adminUrl`.
 * For sandboxes on the local stack (the demo), never a production database. DROP … WITH (FORCE)
 * ends a session left open on it; it is refused while an autovacuum worker (after a bulk load)
 * is in there, which ends by itself: retried for up to 30 s.
 */
export async function recreateDatabase(adminUrl: string, name: string): Promise<void> {
  if (!DATABASE_NAME.test(name)) throw new Error(`not a database name we create: ${JSON.stringify(name)}`);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`drop database if exists ${name} with (force)`);
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code !== '55006' && code !== '42501') || attempt >= 60) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
}
