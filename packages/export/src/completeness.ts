import type { PoolClient } from 'pg';

export type ValidatorGap = { validatorId: string; missing: [number, number][] };

export type Completeness = {
  validatorsSeen: number;
  validatorsComplete: number;
  /** Validators with seq numbers missing between their first and last tap of the day. */
  validatorsWithGaps: ValidatorGap[];
  /** Gap-free, but nothing yet shows they uploaded past the end of the day. */
  validatorsAwaitingUpload: string[];
};

/**
 * SPEC §5: a validator is complete for D when every seq from its first to its last tap of D is
 * stored, and a heartbeat after the end of D (with lastSeq ≥ its last seq of D) or a tap of a
 * later day shows it has uploaded past the end of D. Read from validator_days (kept by the
 * ingest); gaps are listed only for validators whose count falls short of their seq range.
 */
export async function dayCompleteness(client: PoolClient, day: string): Promise<Completeness> {
  const { rows } = await client.query<{ validator_id: string; gapless: boolean; uploaded_past: boolean }>(
    `select d.validator_id,
            d.tap_count = d.max_seq - d.min_seq + 1 as gapless,
            (exists (select 1 from validator_heartbeats h
                     where h.validator_id = d.validator_id and h.last_seq >= d.max_seq
                       and h.at >= ($1::date + 1)::timestamp at time zone 'Europe/Istanbul')
             or exists (select 1 from validator_days l where l.validator_id = d.validator_id and l.service_day > d.service_day))
              as uploaded_past
     from validator_days d where d.service_day = $1::date
     order by d.validator_id collate "C"`,
    [day],
  );
  const gapped = rows.filter((r) => !r.gapless).map((r) => r.validator_id);
  const gaps = new Map<string, [number, number][]>();
  if (gapped.length > 0) {
    const res = await client.query<{ validator_id: string; from_seq: string; to_seq: string }>(
      `select validator_id, seq + 1 as from_seq, next_seq - 1 as to_seq
       from (select validator_id, seq, lead(seq) over (partition by validator_id order by seq) as next_seq
             from boardings where service_day = $1::date and validator_id = any($2::text[])) s
       where next_seq > seq + 1
       order by validator_id collate "C", seq`,
      [day, gapped],
    );
    for (const r of res.rows) {
      const list = gaps.get(r.validator_id) ?? [];
      list.push([Number(r.from_seq), Number(r.to_seq)]);
      gaps.set(r.validator_id, list);
    }
  }
  return {
    validatorsSeen: rows.length,
    validatorsComplete: rows.filter((r) => r.gapless && r.uploaded_past).length,
    validatorsWithGaps: gapped.map((validatorId) => ({ validatorId, missing: gaps.get(validatorId) ?? [] })),
    validatorsAwaitingUpload: rows.filter((r) => r.gapless && !r.uploaded_past).map((r) => r.validator_id),
  };
}
