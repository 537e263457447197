import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

function ancestors(path: string): string[] {
  const out: string[] = [];
  let dir = path;
  for (;;) {
    if (existsSync(dir)) out.push(dir);
    const parent = dirname(dir);
    if (parent === dir) return out;
    dir = parent;
  }
}

/**
 * sshd's ChrootDirectory rule: every component of the path must be a root-owned directory not
 * writable by group or others. (Components not created yet will be, by root, with 0755.)
 */
export function chrootSafe(path: string): boolean {
  return ancestors(path).every((dir) => {
    const st = statSync(dir);
    return st.uid === 0 && (st.mode & 0o022) === 0;
  });
}

/** Whether any user may traverse every existing directory on the way to `path`. */
export function traversableByAll(path: string): boolean {
  return ancestors(dirname(path)).every((dir) => (statSync(dir).mode & 0o001) !== 0);
}
