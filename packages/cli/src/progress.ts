import { SingleBar } from 'cli-progress';

/**
 * A progress bar on stderr for long work. On a terminal it redraws in place; in a log (CI, a
 * pipe) it prints a line every few seconds instead, so long runs still show they are alive.
 */
export function createProgressBar(label: string): SingleBar {
  return new SingleBar({
    format: `${label} [{bar}] {percentage}% | {phase} | {rows} rows | {duration_formatted}`,
    barsize: 30,
    stream: process.stderr,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 3000,
    etaBuffer: 50,
  });
}
