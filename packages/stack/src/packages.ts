import { StackError } from './errors';
import { run, which } from './exec';
import type { Requirement } from './server';

/**
 * Install the Debian packages behind missing commands, in one apt-get run. Without root (and no
 * password-less sudo) nothing is installed: the error names exactly what is missing.
 */
export async function ensurePackages(
  requirements: Requirement[],
  isRoot: boolean,
  report: (message: string) => void,
): Promise<string[]> {
  const missing = requirements.filter((r) => !which(r.command, r.extraDirs));
  const pkgs = [...new Set(missing.map((r) => r.package))];
  if (pkgs.length === 0) return [];
  const sudo = isRoot
    ? []
    : (await run('packages', 'sudo', ['-n', 'true'], { allowFail: true })).code === 0
      ? ['sudo', '-n']
      : null;
  if (sudo === null) {
    throw new StackError(
      'packages',
      `missing ${missing.map((m) => m.command).join(', ')}; install them with: sudo apt-get install -y ${pkgs.join(' ')}`,
    );
  }
  const apt = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, 'apt-get', ...args];
    return run('packages', cmd ?? 'apt-get', rest, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  report(`apt-get update (for ${pkgs.join(', ')})`);
  await apt(['update', '-qq']);
  report(`apt-get install ${pkgs.join(' ')}`);
  await apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  const still = missing.filter((r) => !which(r.command, r.extraDirs));
  if (still.length > 0) {
    throw new StackError(
      'packages',
      `still missing after apt-get: ${still.map((s) => s.command).join(', ')}`,
    );
  }
  return pkgs;
}
