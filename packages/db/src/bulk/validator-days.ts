import type { Pool, PoolClient } from 'pg';

/**
 * `validator_days` of one service day computed again from that day's `boardings`, for a day
 * whose taps were written without `storeTapBatch` (the bench COPYs a simulated day straight
 * into `boardings`). The rule is the ingest's: per (validator, day) the lowest and highest seq,
 * the number of taps and the latest `tapped_at` of the stored taps. The ingest keeps it by
 * merging each batch into the row; a set-based pass over all of the day's boardings reaches the
 * same row at once, and replaces rather than merges, so running it twice counts nothing twice.
 * Returns the rows written.
 */
export async function refreshValidatorDays(client: Pool | PoolClient, day: string): Promise<number> {
  const res = await client.query(
    `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
     select validator_id, service_day, min(seq), max(seq), count(*), max(tapped_at)
     from boardings where service_day = $1::date
     group by validator_id, service_day
     on conflict (validator_id, service_day) do update set
       min_seq = excluded.min_seq,
       max_seq = excluded.max_seq,
       tap_count = excluded.tap_count,
       last_tapped_at = excluded.last_tapped_at`,
    [day],
  );
  return res.rowCount ?? 0;
}
