import { createLogger, type Logger } from '@boarding/logger/logger';

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
// Said by every line already (time, who) or noise to a person reading a terminal.
const OMITTED = new Set(['level', 'time', 'name', 'msg', 'pid', 'hostname', 'stack']);

/**
 * One pino JSON line as a person reads it: `08:15:00 ingest   warn: message (key=value, …)`,
 * like the progress lines. Redaction has happened before (pino redacts while serialising); a
 * line that is not JSON is passed on as it is.
 */
export function humanLogLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '--:--:--';
  const name = typeof entry.name === 'string' ? entry.name : '';
  const level = LEVELS[Number(entry.level)] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([k, v]) => !OMITTED.has(k) && v !== undefined && v !== null)
    .map(([k, v]) => {
      const err = v as { message?: unknown };
      const value = typeof v === 'object' && typeof err.message === 'string' ? err.message : v;
      return `${k}=${typeof value === 'string' ? value : JSON.stringify(value)}`;
    });
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return `${time} ${name.padEnd(8)} ${level}: ${msg}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}\n`;
}

/**
 * The logger of a foreground command (ingest --until-caught-up, replay): warn and above unless
 * LOG_LEVEL says otherwise, written to stderr as human lines, not the services' JSON.
 */
export function createCommandLogger(name: string): Logger {
  return createLogger(name, {
    level: process.env.LOG_LEVEL ?? 'warn',
    destination: { write: (line: string) => void process.stderr.write(humanLogLine(line)) },
  });
}
