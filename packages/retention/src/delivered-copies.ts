import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local copies the export leaves in EXPORT_DIR (SPEC §4 names): the day file
 * `BINIS_<OPERATOR>_<YYYYMMDD>_v<N>.csv[.gz]` and its `….manifest.json`. Any operator: copies
 * written before EXPORT_OPERATOR changed hold the same personal data. Nothing else in the folder
 * matches (temporary `.build-…` files of a build still running, a user's own files).
 */
const DELIVERED_COPY = /^BINIS_[A-Z0-9]+_(\d{4})(\d{2})(\d{2})_v[1-9]\d*\.(?:csv|csv\.gz|manifest\.json)$/;

/** The service day (YYYY-MM-DD) a delivered copy's name carries, or null for any other name. */
export function deliveredCopyDay(fileName: string): string | null {
  const m = DELIVERED_COPY.exec(fileName);
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

export type CopiesRemoved = { files: number; bytes: number };

/**
 * Delete (or with `dryRun` only count) the delivered copies in `dir` whose service day is before
 * `before`. Only regular files are touched (never a directory or a symlink of that name); a
 * missing directory has nothing to delete.
 */
export async function removeDeliveredCopies(
  dir: string,
  before: string,
  dryRun: boolean,
): Promise<CopiesRemoved> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return { files: 0, bytes: 0 };
    throw err;
  }
  const removed: CopiesRemoved = { files: 0, bytes: 0 };
  for (const name of names.sort()) {
    const day = deliveredCopyDay(name);
    if (day === null || day >= before) continue;
    const path = join(dir, name);
    const stat = await lstat(path);
    if (!stat.isFile()) continue;
    if (!dryRun) {
      try {
        await unlink(path);
      } catch (err) {
        // Another run (the CLI beside the nightly job) got there first.
        if ((err as { code?: unknown }).code === 'ENOENT') continue;
        throw err;
      }
    }
    removed.files++;
    removed.bytes += stat.size;
  }
  return removed;
}
