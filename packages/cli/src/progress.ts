import { SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr for long work. On a terminal it redraws in place; in a log (CI, a
 * pipe) it prints a line every few seconds instead, so long runs still show they are alive.
 */
export function createProgressBar(label: string, options: { total?: boolean } = {}): SingleBar {
  return new SingleBar({
    // Work whose size is not known ahead (rows of a day file) shows counts, not a percentage.
    format:
      options.total === false
        ? `${label} | {phase} | {rows} rows | {duration_formatted}`
        : `${label} [{bar}] {percentage}% | {phase} | {rows} rows | {duration_formatted}`,
    barsize: 30,
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 3000,
    etaBuffer: 50,
  });
}
