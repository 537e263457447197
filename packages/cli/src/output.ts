import Table from 'cli-table3';

/** Options every command shares. */
export type GlobalOptions = { json?: boolean };

/** Print a machine result (`--json`) or the human rendering of it. */
export function emit<T>(options: GlobalOptions, value: T, human: (value: T) => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${human(value)}\n`);
}

export function table(head: string[], rows: (string | number | null)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map((c) => (c === null ? '-' : String(c))));
  return t.toString();
}

/** Progress of long work goes to stderr, so stdout stays a clean result for `--json`. */
export function progressLine(server: string, message: string): void {
  const time = new Date().toISOString().slice(11, 19);
  process.stderr.write(`${time} ${server.padEnd(8)} ${message}\n`);
}

/** The total of counts by reason (dead letters). */
export const total = (counts: Record<string, number>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);
