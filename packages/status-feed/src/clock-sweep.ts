import type { Pool } from 'pg';

/**
 * Recompute the status of every card whose match started or ended by the clock alone since
 * `since`: a match written with a `valid_to` (or `valid_from`) still to come — a staff correction,
 * an import row — changes the card's status when that instant passes, and no transaction on
 * `matches` happens then to fire the status triggers (migration 0009). Returns the number of
 * statuses that changed (each with its outbox row, published by the relay). Idempotent: a card
 * whose status is already right is left alone, so overlapping windows cost reads only.
 */
export async function recomputeClockStatuses(pool: Pool, since: Date): Promise<number> {
  const { rows } = await pool.query<{ changed: number }>(
    `select card_status_recompute(coalesce(array_agg(distinct card_id), '{}')) as changed
     from matches
     where retracted_at is null
       and ((valid_from > $1 and valid_from <= clock_timestamp())
            or (valid_to > $1 and valid_to <= clock_timestamp()))`,
    [since],
  );
  return rows[0]?.changed ?? 0;
}
