import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { stackEnvPath } from './paths';

/**
 * `.local/stack.env` holds the connection settings `boarding stack up` wrote. It is a plain
 * `KEY=value` file (no quoting, no expansion) so that shells, systemd and humans can read it too.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

export function readStackEnv(path: string = stackEnvPath()): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnvFile(readFileSync(path, 'utf8'));
}

export function writeStackEnv(values: Record<string, string>, path: string = stackEnvPath()): void {
  const body = [
    '# Written by `boarding stack up`. Connection settings of the private local stack.',
    '# Every boarding command reads this file for variables not set in its environment.',
    ...Object.entries(values).map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
  // Write then rename, so a reader never sees half a file; 0600 because it holds passwords.
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, body, { mode: 0o600 });
  renameSync(tmp, path);
}
