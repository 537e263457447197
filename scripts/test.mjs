#!/usr/bin/env node
// `npm test`: on a fresh clone of a fresh machine, by itself. Installs the npm dependencies when
// they are missing or older than the lockfile, then lint, type-check, and jest's two projects:
// unit (no services) and integration (its global setup brings the local stack up, installing
// PostgreSQL/Redis/OpenSSH with apt-get and fetching the Kafka jars with mvn when missing).
// Extra arguments go to jest, in one run: `npm test -- --selectProjects unit`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
const step = (title, cmd, args) => {
  process.stderr.write(`\n▶ ${title}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    process.stderr.write(`\n✖ ${title} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
};

const installed = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  step('npm ci (dependencies missing or older than package-lock.json)', 'npm', [
    'ci',
    '--no-audit',
    '--no-fund',
  ]);
}
const jestArgs = process.argv.slice(2);
if (jestArgs.length === 0) {
  step('lint (biome)', 'npx', ['biome', 'check', '.']);
  step('imports (declared dependencies, layering)', 'node', ['scripts/check-imports.mjs']);
  step('typecheck (turbo)', 'npx', ['turbo', 'run', 'typecheck', '--output-logs=errors-only']);
  // The alert rules are tested with promtool (services/exporter/src/prometheus-alerts.test.ts).
  process.stderr.write('\n▶ promtool (Debian prometheus, unpacked under .local/tools)\n');
  const promtool = spawnSync('node', ['scripts/promtool.mjs'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (promtool.status !== 0) {
    process.stderr.write('\n✖ promtool could not be had: the alert rules cannot be tested\n');
    process.exit(1);
  }
  env.PROMTOOL = promtool.stdout.trim();
  step('jest: unit + integration', 'npx', ['jest', '--selectProjects', 'unit', 'integration']);
  // Tests that kill or restart the servers (Kafka broker, PostgreSQL, the ingest process):
  // alone, one file at a time, once nothing else uses the shared stack.
  step('jest: disruptive (one file at a time)', 'npx', [
    'jest',
    '--selectProjects',
    'disruptive',
    '--runInBand',
  ]);
} else {
  step('jest', 'npx', ['jest', ...jestArgs]);
}
