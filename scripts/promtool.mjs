#!/usr/bin/env node
// Prints the path of a promtool for the alert rules' tests (infra/prometheus): $PROMTOOL, one on
// PATH, or Debian's `prometheus` package downloaded and unpacked under .local/tools/prometheus
// (`apt-get download` + `dpkg -x`: nothing installed, no service started). Exit 1 with the reason
// when none can be had.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const works = (cmd) => cmd && spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
const tools = join(root, '.local', 'tools', 'prometheus');
const unpacked = join(tools, 'root', 'usr', 'bin', 'promtool');

for (const candidate of [process.env.PROMTOOL, 'promtool', unpacked]) {
  if (works(candidate)) {
    process.stdout.write(`${candidate}\n`);
    process.exit(0);
  }
}

const run = (cmd, args, cwd) => spawnSync(cmd, args, { cwd, encoding: 'utf8' });
const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
const apt = (args, cwd) => {
  const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
  return run(cmd, rest, cwd);
};
const download = join(tools, 'download');
rmSync(tools, { recursive: true, force: true });
mkdirSync(download, { recursive: true });
let got = apt(['download', 'prometheus'], download);
if (got.status !== 0) {
  // A machine whose package lists were never fetched knows no package yet.
  apt(['update', '-qq']);
  got = apt(['download', 'prometheus'], download);
}
const deb = readdirSync(download).find((f) => f.endsWith('.deb'));
if (got.status !== 0 || !deb) {
  process.stderr.write(`promtool: apt-get download prometheus failed: ${got.stderr.trim()}\n`);
  process.exit(1);
}
const x = run('dpkg', ['-x', join(download, deb), join(tools, 'root')]);
if (x.status !== 0 || !existsSync(unpacked) || !works(unpacked)) {
  process.stderr.write(`promtool: could not unpack ${deb}: ${x.stderr.trim()}\n`);
  process.exit(1);
}
rmSync(download, { recursive: true, force: true });
process.stdout.write(`${unpacked}\n`);
