import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { StackError } from './errors';
import { ownsProcess, readPid, run, stopPid, waitUntil } from './exec';
import { traversableByAll } from './paths';
import { probeStatus, type StackContext, type StackServer } from './server';

const NAME = 'postgres';
const APP_ROLE = 'boarding';
const APP_DB = 'boarding';

function binDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  // Prefer 15 (the version the project is built and tested on), else the newest installed.
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  const pick = versions.includes('15') ? '15' : versions[0];
  return pick ? join(base, pick, 'bin') : undefined;
}

/**
 * The data directory: `.local/pg`, unless the unprivileged PostgreSQL user cannot reach it
 * (a checkout under /root); then under the stack's system directory, linked from `.local/pg`.
 */
function pgDir(ctx: StackContext): string {
  const local = join(ctx.settings.local, 'pg');
  if (!ctx.settings.isRoot || traversableByAll(local)) return local;
  return join(ctx.settings.systemDir, 'pg');
}

function paths(ctx: StackContext) {
  const dir = pgDir(ctx);
  return { dir, data: join(dir, 'data'), run: join(dir, 'run'), log: join(dir, 'log', 'postgres.log') };
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` system account. */
async function osUser(ctx: StackContext): Promise<string | undefined> {
  if (!ctx.settings.isRoot) return undefined;
  const found = await run(NAME, 'id', ['-u', 'postgres'], { allowFail: true });
  if (found.code !== 0) {
    ctx.report(NAME, 'creating system user postgres');
    await run(NAME, 'useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  }
  return 'postgres';
}

function superClient(ctx: StackContext): Client {
  // Unix socket in our own run directory, trust auth: only root and the postgres user reach it.
  return new Client({
    host: paths(ctx).run,
    port: ctx.settings.ports.pg,
    user: 'postgres',
    database: 'postgres',
  });
}

function appUrl(ctx: StackContext): string {
  return `postgres://${APP_ROLE}:${ctx.secrets.pgPassword}@127.0.0.1:${ctx.settings.ports.pg}/${APP_DB}`;
}

async function healthy(ctx: StackContext): Promise<boolean> {
  const client = new Client({ connectionString: appUrl(ctx), connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgres: StackServer = {
  name: NAME,
  requirements: () => [
    { command: join(binDir() ?? '/usr/lib/postgresql/15/bin', 'initdb'), package: 'postgresql-15' },
  ],

  async up(ctx) {
    const started = Date.now();
    const p = paths(ctx);
    const bin = binDir();
    if (!bin) throw new StackError(NAME, 'no PostgreSQL server binaries under /usr/lib/postgresql');
    const pid = readPid(join(p.data, 'postmaster.pid'));
    if (ownsProcess(pid, p.data)) {
      await waitUntil(NAME, 'connections', () => healthy(ctx), 30000);
      return {
        server: NAME,
        action: 'already-running',
        pid,
        port: ctx.settings.ports.pg,
        ms: Date.now() - started,
      };
    }
    const user = await osUser(ctx);
    for (const d of [p.data, p.run, join(p.dir, 'log')]) mkdirSync(d, { recursive: true, mode: 0o700 });
    if (p.dir !== join(ctx.settings.local, 'pg') && !existsSync(join(ctx.settings.local, 'pg'))) {
      symlinkSync(p.dir, join(ctx.settings.local, 'pg'));
    }
    if (user) await run(NAME, 'chown', ['-R', `${user}:`, p.dir]);
    if (!existsSync(join(p.data, 'PG_VERSION'))) {
      ctx.report(NAME, `initdb ${p.data}`);
      await run(
        NAME,
        join(bin, 'initdb'),
        [
          '-D',
          p.data,
          '-U',
          'postgres',
          '-E',
          'UTF8',
          '--no-locale',
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
        ],
        { user },
      );
      appendFileSync(
        join(p.data, 'postgresql.conf'),
        "\ninclude_if_exists = 'boarding.conf'\ninclude_if_exists = 'stack.conf'\n",
      );
    }
    // Tuning from infra/ (copied in: the postgres user may not be able to read the checkout),
    // and the listener of this stack, rewritten at every start so a port change applies.
    copyFileSync(join(ctx.settings.infra, 'postgres', 'boarding.conf'), join(p.data, 'boarding.conf'));
    writeFileSync(
      join(p.data, 'stack.conf'),
      `listen_addresses = '127.0.0.1'\nport = ${ctx.settings.ports.pg}\nunix_socket_directories = '${p.run}'\n`,
    );
    if (user)
      await run(NAME, 'chown', [`${user}:`, join(p.data, 'boarding.conf'), join(p.data, 'stack.conf')]);
    ctx.report(NAME, `starting on 127.0.0.1:${ctx.settings.ports.pg}`);
    await run(NAME, join(bin, 'pg_ctl'), ['-D', p.data, '-l', p.log, '-w', '-t', '60', 'start'], { user });
    // Role and database of the application, created once; the password is re-applied each start
    // so `.local/secrets.json` stays the single source of truth.
    const su = superClient(ctx);
    await su.connect();
    try {
      const role = await su.query('select 1 from pg_roles where rolname = $1', [APP_ROLE]);
      // CREATEDB on the local stack only: integration tests make a throw-away database each.
      if (role.rowCount === 0) await su.query(`create role ${APP_ROLE} login createdb`);
      else await su.query(`alter role ${APP_ROLE} createdb`);
      await su.query(`alter role ${APP_ROLE} password '${ctx.secrets.pgPassword.replaceAll("'", "''")}'`);
      const db = await su.query('select 1 from pg_database where datname = $1', [APP_DB]);
      if (db.rowCount === 0) await su.query(`create database ${APP_DB} owner ${APP_ROLE}`);
    } finally {
      await su.end();
    }
    await waitUntil(NAME, 'connections', () => healthy(ctx), 30000);
    const newPid = readPid(join(p.data, 'postmaster.pid'));
    if (!newPid) throw new StackError(NAME, `started but no postmaster.pid; see ${p.log}`);
    return {
      server: NAME,
      action: 'started',
      pid: newPid,
      port: ctx.settings.ports.pg,
      ms: Date.now() - started,
    };
  },

  async down(ctx) {
    const p = paths(ctx);
    const pid = readPid(join(p.data, 'postmaster.pid'));
    if (!ownsProcess(pid, p.data)) return { server: NAME, action: 'not-running', pid: null };
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    return { server: NAME, action: await stopPid(pid, 'SIGINT', 60000), pid };
  },

  async status(ctx) {
    const p = paths(ctx);
    const pid = readPid(join(p.data, 'postmaster.pid'));
    const running = ownsProcess(pid, p.data);
    return probeStatus(
      NAME,
      ctx.settings.ports.pg,
      pid,
      running,
      () => healthy(ctx),
      () => `accepting connections, data ${p.data}`,
    );
  },

  env: (ctx) => ({ DATABASE_URL: appUrl(ctx) }),
};
