import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The repository root: the nearest directory upwards holding `turbo.json`. Commands are run from
 * anywhere in the checkout (or through `npm run -w`), and every local file is found from here.
 */
export function findRepoRoot(start: string = process.cwd()): string {
  const fromEnv = process.env.BOARDING_ROOT;
  if (fromEnv) return resolve(fromEnv);
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'turbo.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  // Fall back to this package's own checkout, so a command run from outside still finds the stack.
  return resolve(__dirname, '../../..');
}

/** `.local/` under the repository root: the private stack's data, logs, keys and `stack.env`. */
export function localDir(root: string = findRepoRoot()): string {
  return process.env.BOARDING_LOCAL_DIR ? resolve(process.env.BOARDING_LOCAL_DIR) : join(root, '.local');
}

export function stackEnvPath(root?: string): string {
  return join(localDir(root), 'stack.env');
}
