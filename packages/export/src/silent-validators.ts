import type { PoolClient } from 'pg';

/** SPEC §5: the fleet expected on day D and who of it is silent. */
export type SilentValidators = {
  /** Validators that stored taps on any of the 7 days before D. */
  validatorsExpected: number;
  /** Of those: nothing stored for D, and nothing (a heartbeat, a later tap) shows an upload past D. */
  validatorsSilent: string[];
};

/** The days before D whose validators make the expected fleet. */
export const EXPECTED_FLEET_DAYS = 7;

/**
 * A bus in the depot is silent for a day and that is normal; a whole depot silent is not (a
 * gateway down, a partition the ingest never reads). A validator that uploaded past the end of
 * D (a heartbeat at or after it, or a tap of a later day) with nothing for D was idle, not silent.
 */
export async function silentValidators(client: PoolClient, day: string): Promise<SilentValidators> {
  const { rows } = await client.query<{ validator_id: string; silent: boolean }>(
    `select e.validator_id,
            not exists (select 1 from validator_days d
                        where d.validator_id = e.validator_id and d.service_day >= $1::date)
            and not exists (select 1 from validator_heartbeats h
                            where h.validator_id = e.validator_id
                              and h.at >= ($1::date + 1)::timestamp at time zone 'Europe/Istanbul') as silent
     from (select distinct validator_id from validator_days
           where service_day >= $1::date - $2::int and service_day < $1::date) e
     order by e.validator_id collate "C"`,
    [day, EXPECTED_FLEET_DAYS],
  );
  return {
    validatorsExpected: rows.length,
    validatorsSilent: rows.filter((r) => r.silent).map((r) => r.validator_id),
  };
}
