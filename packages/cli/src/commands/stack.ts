import { stackDown, stackStatus, stackUp } from '@boarding/stack/stack';
import type { Command } from 'commander';
import { emit, type GlobalOptions, progressLine, table } from '../output';

export function registerStack(program: Command): void {
  const stack = program
    .command('stack')
    .description('the private local PostgreSQL, Redis, Kafka and SFTP server under .local/');

  stack
    .command('up')
    .description('install what is missing, start every server not running, wait until each answers')
    .option('--json', 'print the result as JSON')
    .action(async (options: GlobalOptions) => {
      const result = await stackUp(progressLine);
      emit(options, result, (r) => {
        const rows = r.servers.map((s) => [
          s.server,
          s.port,
          s.pid,
          s.action,
          `${(s.ms / 1000).toFixed(1)}s`,
        ]);
        const head = r.changed
          ? `stack up in ${(r.ms / 1000).toFixed(1)}s${r.installed.length ? ` (installed ${r.installed.join(', ')})` : ''}`
          : 'stack already up: nothing changed';
        return `${head}\n${table(['server', 'port', 'pid', 'action', 'took'], rows)}\nsettings: ${r.envFile}`;
      });
    });

  stack
    .command('down')
    .description('stop the servers this stack started (by their pid files); nothing else is touched')
    .option('--json', 'print the result as JSON')
    .action(async (options: GlobalOptions) => {
      const result = await stackDown(progressLine);
      emit(options, result, (r) =>
        table(
          ['server', 'pid', 'action'],
          r.map((s) => [s.server, s.pid, s.action]),
        ),
      );
    });

  stack
    .command('status')
    .description('each server: port, pid, health; exits 1 unless all four are healthy')
    .option('--json', 'print the result as JSON')
    .action(async (options: GlobalOptions) => {
      const result = await stackStatus();
      emit(options, result, (r) =>
        table(
          ['server', 'port', 'pid', 'health', 'detail'],
          r.map((s) => [
            s.server,
            s.port,
            s.pid,
            s.healthy ? 'healthy' : s.running ? 'UNHEALTHY' : 'stopped',
            s.detail,
          ]),
        ),
      );
      if (!result.every((s) => s.healthy)) process.exitCode = 1;
    });
}
