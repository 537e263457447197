import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Pool } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Rate } from './harness';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A query of one `$1` day parameter with the day written in as a literal: COPY takes no
 * parameters. The day is checked first, so nothing but a date can reach the SQL text.
 */
export function withDayLiteral(query: string, day: string): string {
  if (!DAY.test(day)) throw new RangeError(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  const params = new Set(query.match(/\$\d+/g));
  if (params.size !== 1 || !params.has('$1')) {
    throw new RangeError('the query must take exactly one parameter, $1');
  }
  return query.replaceAll('$1', `'${day}'`);
}

/**
 * `COPY (query) TO STDOUT`, the bytes counted and dropped: how fast PostgreSQL alone produces
 * the rows of a query (plan, joins, sort, text output) with no client work at all. The ceiling
 * for anything that builds a file from that query.
 */
export async function measureCopyOut(options: {
  pool: Pool;
  query: string;
  /** `set local …` statements the query runs under (the export's own session settings). */
  settings?: string;
  progress: (message: string) => void;
}): Promise<Rate & { rows: number; bytes: number }> {
  const client = await options.pool.connect();
  try {
    await client.query('begin');
    if (options.settings) await client.query(options.settings);
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done();
      },
    });
    const copy = client.query(copyTo(`copy (${options.query}) to stdout`));
    const started = performance.now();
    await pipeline(copy, sink);
    const seconds = (performance.now() - started) / 1000;
    await client.query('commit');
    const rows = copy.rowCount;
    options.progress(
      `copy-out: ${rows.toLocaleString('en-US')} rows (${(bytes / 1e6).toFixed(1)} MB of COPY text) in ${seconds.toFixed(2)} s`,
    );
    return { value: rows / seconds, unit: 'rows/s', amount: rows, seconds, rows, bytes };
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
