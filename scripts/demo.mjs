#!/usr/bin/env node
// `npm run demo`: the whole pipeline end to end on a fresh clone of a fresh machine, by itself.
// Installs the npm dependencies when they are missing or older than the lockfile, then runs
// `boarding demo` (stack up — installing PostgreSQL/Redis/OpenSSH and fetching the Kafka jars
// when missing —, migrate, simulate, import, ingest, the nightly export job, SFTP delivery).
// Extra arguments go to `boarding demo`: `npm run demo -- --taps 50000 --day 2020-11-20`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
  });
  if (r.status !== 0) {
    process.stderr.write(`\n✖ ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
};

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  process.stderr.write('▶ npm ci (dependencies missing or older than package-lock.json)\n');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
run('npx', ['boarding', 'demo', ...process.argv.slice(2)]);
